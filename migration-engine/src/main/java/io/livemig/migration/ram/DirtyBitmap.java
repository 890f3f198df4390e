package io.livemig.migration.ram;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One dirty bit per 4 KiB page of a {@link RamBlock}, marked concurrently by the application and
 * harvested once per pre-copy round by the engine with {@link #syncAndClear()}.
 *
 * <p><b>Why no write is ever lost.</b> Writers change a page first and mark it afterwards; the engine
 * takes each 64-page word with an atomic get-and-clear and only then reads the pages it found dirty. A
 * write that lands before its bit is taken is sent in this round; a write whose mark lands after the
 * word was taken leaves its bit set for the next round, so the last write to every page is always
 * sent. The mark is a volatile read-modify-write and the harvest a volatile get-and-set, so the page
 * bytes written before a mark are visible to the engine that harvested the mark. (Marking before
 * writing would not be safe: the harvest could take the bit and read the page before the write.)
 *
 * <p>Thread-safe and lock-free; marks never block.
 */
public final class DirtyBitmap {

    private final long pages;
    private final AtomicLongArray words;

    /**
     * Creates a bitmap with every page clean.
     *
     * @param pages number of pages tracked
     */
    public DirtyBitmap(long pages) {
        if (pages < 0 || Math.ceilDiv(pages, 64) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("cannot track " + pages + " pages");
        }
        this.pages = pages;
        this.words = new AtomicLongArray((int) Math.ceilDiv(pages, 64));
    }

    /**
     * Pages tracked.
     *
     * @return the page count
     */
    public long pages() {
        return pages;
    }

    /**
     * Marks one page dirty. Call after writing it.
     *
     * @param page page index
     */
    public void mark(long page) {
        checkPage(page);
        long bit = 1L << (page & 63);
        int word = (int) (page >>> 6);
        // Skip the atomic when the bit is already set: repeated writes to a hot page then cost a plain read.
        if ((words.get(word) & bit) == 0) {
            words.getAndAccumulate(word, bit, (a, b) -> a | b);
        }
    }

    /**
     * Marks every page that {@code [byteOffset, byteOffset + length)} touches. Call after writing them.
     *
     * @param byteOffset offset of the first written byte inside the block
     * @param length bytes written (0 marks nothing)
     */
    public void markRange(long byteOffset, long length) {
        if (length == 0) {
            return;
        }
        if (byteOffset < 0 || length < 0) {
            throw new IndexOutOfBoundsException("range " + byteOffset + " + " + length);
        }
        long first = byteOffset / RamBlock.PAGE_SIZE;
        long last = (byteOffset + length - 1) / RamBlock.PAGE_SIZE;
        checkPage(last);
        for (long page = first; page <= last; ) {
            int word = (int) (page >>> 6);
            int from = (int) (page & 63);
            int to = (int) Math.min(63, from + (last - page));
            long mask = (to == 63 ? -1L : (1L << (to + 1)) - 1) & (-1L << from);
            if ((words.get(word) & mask) != mask) {
                words.getAndAccumulate(word, mask, (a, b) -> a | b);
            }
            page += to - from + 1;
        }
    }

    /** Marks every page dirty (the bulk round sends everything). */
    public void markAll() {
        markRange(0, pages * RamBlock.PAGE_SIZE);
    }

    /**
     * Whether a page is currently marked.
     *
     * @param page page index
     * @return true if dirty
     */
    public boolean isDirty(long page) {
        checkPage(page);
        return (words.get((int) (page >>> 6)) & (1L << (page & 63))) != 0;
    }

    /**
     * Pages marked right now (a moment's view while writers run).
     *
     * @return the number of dirty pages
     */
    public long dirtyPages() {
        long n = 0;
        for (int i = 0; i < words.length(); i++) {
            n += Long.bitCount(words.get(i));
        }
        return n;
    }

    /**
     * Takes every mark and clears it, word by word atomically: each mark is in exactly one snapshot.
     *
     * @return the pages that were dirty
     */
    public DirtyPages syncAndClear() {
        long[] snapshot = new long[words.length()];
        for (int i = 0; i < snapshot.length; i++) {
            // Read first: a clean word (the common case late in a migration) needs no atomic write.
            if (words.get(i) != 0) {
                snapshot[i] = words.getAndSet(i, 0);
            }
        }
        return new DirtyPages(pages, snapshot);
    }

    /**
     * Takes every mark like {@link #syncAndClear()}, OR-ing them into {@code into} instead of a new snapshot: how
     * a kernel tracker folds in the pages written through {@link RamBlock#write} and friends.
     *
     * @param into words of a snapshot of this bitmap's page count
     */
    void syncAndClearInto(long[] into) {
        for (int i = 0; i < into.length; i++) {
            if (words.get(i) != 0) {
                into[i] |= words.getAndSet(i, 0);
            }
        }
    }

    /**
     * Pages marked here or in {@code other}, without taking any mark.
     *
     * @param other words of a snapshot of this bitmap's page count
     * @return the size of the union
     */
    long dirtyPagesOr(long[] other) {
        long n = 0;
        for (int i = 0; i < other.length; i++) {
            n += Long.bitCount(words.get(i) | other[i]);
        }
        return n;
    }

    /**
     * Words a snapshot of this bitmap holds.
     *
     * @return {@code ceil(pages / 64)}
     */
    int wordCount() {
        return words.length();
    }

    private void checkPage(long page) {
        if (page < 0 || page >= pages) {
            throw new IndexOutOfBoundsException("page " + page + " outside 0.." + (pages - 1));
        }
    }
}
