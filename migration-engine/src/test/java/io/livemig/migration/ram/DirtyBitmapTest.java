package io.livemig.migration.ram;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DirtyBitmapTest {

    @Test
    void marksSinglePagesAndRangesAcrossWordBoundaries() {
        DirtyBitmap bitmap = new DirtyBitmap(200);
        bitmap.mark(3);
        bitmap.markRange(60 * RamBlock.PAGE_SIZE + 100, 70 * RamBlock.PAGE_SIZE); // pages 60..130
        assertThat(bitmap.isDirty(3)).isTrue();
        assertThat(bitmap.isDirty(59)).isFalse();
        assertThat(bitmap.isDirty(60)).isTrue();
        assertThat(bitmap.isDirty(130)).isTrue();
        assertThat(bitmap.isDirty(131)).isFalse();
        assertThat(bitmap.dirtyPages()).isEqualTo(1 + 71);
        assertThat(runs(bitmap.syncAndClear())).containsExactly(List.of(3L, 1L), List.of(60L, 71L));
        assertThat(bitmap.dirtyPages()).isZero();
        assertThat(bitmap.syncAndClear().isEmpty()).isTrue();
    }

    @Test
    void runsEndAtTheLastPageOfAPartialWord() {
        DirtyBitmap bitmap = new DirtyBitmap(130);
        bitmap.markAll();
        assertThat(runs(bitmap.syncAndClear())).containsExactly(List.of(0L, 130L));
        assertThat(DirtyPages.all(65).count()).isEqualTo(65);
    }

    @Test
    void rejectsPagesOutsideTheBlock() {
        DirtyBitmap bitmap = new DirtyBitmap(10);
        assertThatThrownBy(() -> bitmap.mark(10)).isInstanceOf(IndexOutOfBoundsException.class)
                .hasMessage("page 10 outside 0..9");
        assertThatThrownBy(() -> bitmap.markRange(9 * RamBlock.PAGE_SIZE, RamBlock.PAGE_SIZE + 1))
                .isInstanceOf(IndexOutOfBoundsException.class);
    }

    /**
     * Writers bump a per-page counter and mark the page; a harvester syncs and copies dirty pages into a
     * shadow copy as fast as it can. After the writers stop, one last sync must leave the shadow equal to
     * the memory: no write that raced a sync was lost.
     */
    @Test
    void writesThatRaceASyncAreNeverLost() throws Exception {
        int pages = 512;
        long[] memory = new long[pages];
        long[] shadow = new long[pages];
        java.util.concurrent.atomic.AtomicLongArray published = new java.util.concurrent.atomic.AtomicLongArray(pages);
        DirtyBitmap bitmap = new DirtyBitmap(pages);
        int writers = 3;
        int writesPerWriter = 200_000;
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            int seed = w;
            threads.add(Thread.ofPlatform().start(() -> {
                java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
                for (int i = 0; i < writesPerWriter; i++) {
                    int page = random.nextInt(pages);
                    // The write (an atomic increment standing for the page's bytes), then the mark.
                    published.incrementAndGet(page);
                    bitmap.mark(page);
                }
            }));
        }
        int rounds = 0;
        while (threads.stream().anyMatch(Thread::isAlive)) {
            copyDirty(bitmap.syncAndClear(), published, shadow);
            rounds++;
        }
        for (Thread thread : threads) {
            thread.join();
        }
        copyDirty(bitmap.syncAndClear(), published, shadow);
        for (int page = 0; page < pages; page++) {
            memory[page] = published.get(page);
        }
        assertThat(shadow).isEqualTo(memory);
        assertThat(java.util.Arrays.stream(memory).sum()).isEqualTo((long) writers * writesPerWriter);
        assertThat(rounds).isPositive();
    }

    private static void copyDirty(DirtyPages dirty, java.util.concurrent.atomic.AtomicLongArray memory, long[] shadow) {
        dirty.forEachRun((first, count) -> {
            for (long page = first; page < first + count; page++) {
                shadow[(int) page] = memory.get((int) page);
            }
        });
    }

    private static List<List<Long>> runs(DirtyPages pages) {
        List<List<Long>> runs = new ArrayList<>();
        pages.forEachRun((first, count) -> runs.add(List.of(first, count)));
        return runs;
    }
}
