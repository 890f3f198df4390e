package io.livemig.migration.ram;

/**
 * The pages one {@link DirtyBitmap#syncAndClear()} found dirty: an immutable snapshot that the engine
 * walks as runs of contiguous pages (which become merged RDMA writes).
 */
public final class DirtyPages {

    /** Receives one run of contiguous dirty pages. */
    @FunctionalInterface
    public interface RunConsumer {
        /**
         * One run.
         *
         * @param firstPage index of the first page of the run
         * @param pageCount number of contiguous dirty pages, at least 1
         */
        void accept(long firstPage, long pageCount);
    }

    private final long pages;
    private final long[] words;

    DirtyPages(long pages, long[] words) {
        this.pages = pages;
        this.words = words;
    }

    /**
     * A snapshot made of words filled by a tracker.
     *
     * @param pages the block's page count
     * @param words one bit per page, page {@code p} in bit {@code p & 63} of word {@code p >>> 6}
     * @return the snapshot, owning {@code words}
     */
    static DirtyPages ofWords(long pages, long[] words) {
        return new DirtyPages(pages, words);
    }

    /**
     * Sets the bits of pages {@code [from, to)}.
     *
     * @param words the bitmap
     * @param from first page
     * @param to page just past the last
     */
    static void setRange(long[] words, long from, long to) {
        for (long page = from; page < to; ) {
            int word = (int) (page >>> 6);
            int bit = (int) (page & 63);
            long span = Math.min(64 - bit, to - page);
            words[word] |= (span == 64 ? -1L : ((1L << span) - 1)) << bit;
            page += span;
        }
    }

    /**
     * Every page of a block, for the bulk round.
     *
     * @param pages the block's page count
     * @return a snapshot with all pages dirty
     */
    public static DirtyPages all(long pages) {
        DirtyBitmap bitmap = new DirtyBitmap(pages);
        bitmap.markAll();
        return bitmap.syncAndClear();
    }

    /**
     * Number of dirty pages.
     *
     * @return the count
     */
    public long count() {
        long n = 0;
        for (long word : words) {
            n += Long.bitCount(word);
        }
        return n;
    }

    /**
     * Whether no page is dirty.
     *
     * @return true when clean
     */
    public boolean isEmpty() {
        for (long word : words) {
            if (word != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether a page is in the snapshot.
     *
     * @param page page index
     * @return true if dirty
     */
    public boolean contains(long page) {
        if (page < 0 || page >= pages) {
            return false;
        }
        return (words[(int) (page >>> 6)] & (1L << (page & 63))) != 0;
    }

    /**
     * Walks the dirty pages in ascending order as maximal runs.
     *
     * @param consumer receives each run
     */
    public void forEachRun(RunConsumer consumer) {
        long runStart = -1;
        for (int w = 0; w < words.length; w++) {
            long word = words[w];
            long base = (long) w << 6;
            if (word == -1L) {
                if (runStart < 0) {
                    runStart = base;
                }
                continue;
            }
            if (word == 0) {
                if (runStart >= 0) {
                    consumer.accept(runStart, base - runStart);
                    runStart = -1;
                }
                continue;
            }
            for (int bit = 0; bit < 64; bit++) {
                boolean dirty = (word & (1L << bit)) != 0;
                if (dirty && runStart < 0) {
                    runStart = base + bit;
                } else if (!dirty && runStart >= 0) {
                    consumer.accept(runStart, base + bit - runStart);
                    runStart = -1;
                }
            }
        }
        if (runStart >= 0) {
            consumer.accept(runStart, pages - runStart);
        }
    }
}
