package io.livemig.migration.ram;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.livemig.migration.protocol.BlockListEntry;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Each kernel mode finds exactly the pages written with plain {@code MemorySegment} stores, no dirty API called,
 * then none once harvested. A mode this machine lacks is skipped with the gate's cached cause; uffd-wp runs on the
 * build machines (Linux 6.18).
 */
class DirtyTrackerTest {

    private static final long MIB = 1 << 20;
    /** Pages of the 8 MiB block written: word edges, a 2 MiB (huge page) edge, the last page. */
    private static final List<Long> POPULATED_PAGES = List.of(0L, 1L, 63L, 64L, 511L, 512L, 2047L);
    /** Pages of the never-touched 4 MiB block written (first touches under write-protection). */
    private static final List<Long> UNTOUCHED_PAGES = List.of(5L, 1023L);

    private static RamBlocks twoBlocks() {
        RamBlocks blocks = RamBlocks.allocate(List.of(new BlockListEntry("populated", 8 * MIB),
                new BlockListEntry("untouched", 4 * MIB)));
        // Every page of the first block exists before tracking starts (as huge pages where the kernel gives them).
        blocks.get(0).memory().fill((byte) 0x5a);
        return blocks;
    }

    private static void assumeAvailable(DirtyTrackingMode mode) {
        assumeTrue(DirtyTracking.isAvailable(mode), () -> DirtyTracking.unavailabilityCause(mode).get());
    }

    private static void store(RamBlock block, long page, long value) {
        block.memory().set(ValueLayout.JAVA_LONG, page * RamBlock.PAGE_SIZE + 8, value);
    }

    private static List<Long> pages(DirtyPages dirty) {
        List<Long> pages = new ArrayList<>();
        dirty.forEachRun((first, count) -> {
            for (long page = first; page < first + count; page++) {
                pages.add(page);
            }
        });
        return pages;
    }

    @ParameterizedTest
    @EnumSource(names = {"UFFD_WP", "SOFT_DIRTY"})
    void findsExactlyThePagesWrittenWithPlainStoresThenNone(DirtyTrackingMode mode) {
        assumeAvailable(mode);
        try (RamBlocks blocks = twoBlocks(); DirtyTracker tracker = DirtyTracking.open(mode, blocks)) {
            assertThat(tracker.mode()).isEqualTo(mode);
            assertThat(tracker.reason()).isEqualTo("requested");
            tracker.start();
            assertThat(tracker.dirtyPages()).isZero();
            POPULATED_PAGES.forEach(page -> store(blocks.get(0), page, page));
            UNTOUCHED_PAGES.forEach(page -> store(blocks.get(1), page, page));

            assertThat(tracker.dirtyPages()).as("a peek takes nothing").isEqualTo(9);
            List<DirtyPages> dirty = tracker.syncAndClear();
            assertThat(pages(dirty.get(0))).isEqualTo(POPULATED_PAGES);
            assertThat(pages(dirty.get(1))).isEqualTo(UNTOUCHED_PAGES);
            assertThat(blocks.get(0).dirtyBitmap().dirtyPages()).as("the bitmap was never marked").isZero();

            assertThat(tracker.dirtyPages()).isZero();
            assertThat(tracker.syncAndClear()).allSatisfy(after -> assertThat(after.isEmpty()).isTrue());

            // Harvesting re-armed the pages: writing one again finds it again, alone.
            store(blocks.get(0), 511, -1);
            assertThat(tracker.syncAndClear()).extracting(DirtyTrackerTest::pages)
                    .containsExactly(List.of(511L), List.of());
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"UFFD_WP", "SOFT_DIRTY", "EXPLICIT"})
    void pagesMarkedThroughTheDirtyApiAreHarvestedInEveryMode(DirtyTrackingMode mode) {
        assumeAvailable(mode);
        try (RamBlocks blocks = twoBlocks(); DirtyTracker tracker = DirtyTracking.open(mode, blocks)) {
            tracker.start();
            blocks.get(1).putLong(7 * RamBlock.PAGE_SIZE, 42);
            blocks.get(1).dirtyBitmap().mark(9); // marked, never written: still sent
            assertThat(tracker.dirtyPages()).isEqualTo(2);
            assertThat(tracker.syncAndClear()).extracting(DirtyTrackerTest::pages)
                    .containsExactly(List.of(), List.of(7L, 9L));
            assertThat(blocks.get(1).dirtyBitmap().dirtyPages()).isZero();
            assertThat(tracker.syncAndClear()).allSatisfy(after -> assertThat(after.isEmpty()).isTrue());
        }
    }

    /**
     * soft-dirty's documented limit, made deterministic: its read and its clear are two steps, and the clear is
     * process-wide, so a write that lands after a tracker read its bits and before a clear is lost to that tracker
     * for good. Here a second tracker's harvest is the clear in between; in a live migration it is the tracker's own
     * clear a moment after its read (the window the lab's live soft-dirty migration fell into; docs/dirty-tracking.md).
     */
    @Test
    void softDirtyLosesAWriteThatLandsBetweenItsReadAndAClear() {
        assumeAvailable(DirtyTrackingMode.SOFT_DIRTY);
        try (RamBlocks blocks = twoBlocks();
                DirtyTracker tracker = DirtyTracking.open(DirtyTrackingMode.SOFT_DIRTY, blocks);
                DirtyTracker other = DirtyTracking.open(DirtyTrackingMode.SOFT_DIRTY, blocks)) {
            tracker.start();
            store(blocks.get(0), 5, 5);
            assertThat(tracker.dirtyPages()).as("read: seen").isEqualTo(1);
            other.syncAndClear();
            assertThat(tracker.syncAndClear()).as("after another clear: gone")
                    .allSatisfy(after -> assertThat(after.isEmpty()).isTrue());
        }
    }

    @Test
    void explicitTrackingSeesNoPlainStore() {
        try (RamBlocks blocks = twoBlocks();
                DirtyTracker tracker = DirtyTracking.open(DirtyTrackingMode.EXPLICIT, blocks)) {
            tracker.start();
            store(blocks.get(0), 3, 3);
            assertThat(tracker.syncAndClear()).allSatisfy(after -> assertThat(after.isEmpty()).isTrue());
        }
    }

    @Test
    void uffdWpTracksASharedMemoryFileBlock() throws IOException {
        Path shm = Path.of("/dev/shm");
        assumeTrue(Files.isDirectory(shm), "no /dev/shm");
        tracksAFileBlock(shm);
    }

    @Test
    void uffdWpTracksAFileBlockOnTheTemporaryFileSystem(@TempDir Path dir) throws IOException {
        // Async write-protection is not limited to anonymous and shmem memory (6.18 takes an ext4 mapping).
        tracksAFileBlock(dir);
    }

    private static void tracksAFileBlock(Path dir) throws IOException {
        assumeAvailable(DirtyTrackingMode.UFFD_WP);
        Path file = Files.createTempFile(dir, "livemig-dirty", ".ram");
        try (RamBlocks blocks = RamBlocks.of(List.of(RamBlock.mapFile("file", file, 2 * MIB, 0, true)));
                DirtyTracker tracker = DirtyTracking.open(DirtyTrackingMode.UFFD_WP, blocks)) {
            store(blocks.get(0), 100, 1);
            tracker.start();
            store(blocks.get(0), 100, 2); // populated
            store(blocks.get(0), 300, 3); // first touch
            assertThat(tracker.syncAndClear()).extracting(DirtyTrackerTest::pages)
                    .containsExactly(List.of(100L, 300L));
            assertThat(tracker.syncAndClear().getFirst().isEmpty()).isTrue();
        } finally {
            Files.delete(file);
        }
    }

    @Test
    void autoPicksTheBestAvailableModeAndSaysWhy() {
        try (RamBlocks blocks = twoBlocks(); DirtyTracker tracker = DirtyTracking.open(DirtyTrackingMode.AUTO, blocks)) {
            assertThat(tracker.mode()).isEqualTo(DirtyTracking.best());
            switch (tracker.mode()) {
                case UFFD_WP -> assertThat(tracker.reason()).isEqualTo("auto: available");
                case SOFT_DIRTY -> assertThat(tracker.reason()).isEqualTo("auto: uffd-wp unavailable ("
                        + DirtyTracking.unavailabilityCause(DirtyTrackingMode.UFFD_WP).get() + ")");
                default -> assertThat(tracker.reason()).isEqualTo("auto: uffd-wp unavailable ("
                        + DirtyTracking.unavailabilityCause(DirtyTrackingMode.UFFD_WP).get()
                        + "); soft-dirty unavailable ("
                        + DirtyTracking.unavailabilityCause(DirtyTrackingMode.SOFT_DIRTY).get() + ")");
            }
            assertThat(DirtyTracking.describe(tracker))
                    .isEqualTo("dirty tracking: " + tracker.mode().cliName() + " (" + tracker.reason() + ")")
                    .isEqualTo(DirtyTracking.plan(DirtyTrackingMode.AUTO));
        }
    }

    /**
     * RAM that RDMA registration pins keeps its soft-dirty bits (the kernel never clears a pinned page's): where auto
     * would pick soft-dirty, it takes explicit marks instead and says why, and the plan says the same. Runs where
     * uffd-wp is unavailable and soft-dirty is (the rxe lab's Linux 6.1).
     */
    @Test
    void autoPassesOverSoftDirtyForRamThatRegistrationPins() {
        assumeTrue(!DirtyTracking.isAvailable(DirtyTrackingMode.UFFD_WP), "uffd-wp is available: auto takes it");
        assumeAvailable(DirtyTrackingMode.SOFT_DIRTY);
        try (RamBlocks blocks = twoBlocks();
                DirtyTracker tracker = DirtyTracking.open(DirtyTrackingMode.AUTO, blocks, true)) {
            assertThat(tracker.mode()).isEqualTo(DirtyTrackingMode.EXPLICIT);
            assertThat(tracker.reason()).isEqualTo("auto: uffd-wp unavailable ("
                    + DirtyTracking.unavailabilityCause(DirtyTrackingMode.UFFD_WP).get() + "); soft-dirty passed over "
                    + "(RDMA registration pins the RAM, and the kernel never clears a pinned page's soft-dirty bit)");
            assertThat(DirtyTracking.describe(tracker)).isEqualTo(DirtyTracking.plan(DirtyTrackingMode.AUTO, true));
        }
    }

    @Test
    void autoPassesOverUffdWpWhenAnotherTrackerHoldsTheBlocks() {
        assumeAvailable(DirtyTrackingMode.UFFD_WP);
        try (RamBlocks blocks = twoBlocks();
                DirtyTracker first = DirtyTracking.open(DirtyTrackingMode.UFFD_WP, blocks);
                DirtyTracker second = DirtyTracking.open(DirtyTrackingMode.AUTO, blocks)) {
            assertThat(first.mode()).isEqualTo(DirtyTrackingMode.UFFD_WP);
            assertThat(second.mode()).isNotEqualTo(DirtyTrackingMode.UFFD_WP);
            // A range belongs to one userfaultfd at a time.
            assertThat(second.reason()).startsWith("auto: uffd-wp refused (ioctl(UFFDIO_REGISTER) of RAM block "
                    + "'populated' failed: EBUSY (Device or resource busy))");
            assertThatThrownBy(() -> DirtyTracking.open(DirtyTrackingMode.UFFD_WP, blocks))
                    .isInstanceOf(java.io.UncheckedIOException.class)
                    .hasMessage("dirty tracking mode uffd-wp: ioctl(UFFDIO_REGISTER) of RAM block 'populated' "
                            + "failed: EBUSY (Device or resource busy)");
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"UFFD_WP", "SOFT_DIRTY"})
    void anUnavailableModeIsRefusedWithItsCachedCause(DirtyTrackingMode mode) {
        assumeTrue(!DirtyTracking.isAvailable(mode), mode + " is available here");
        String cause = DirtyTracking.unavailabilityCause(mode).get();
        assertThat(DirtyTracking.unavailabilityCause(mode).get()).isSameAs(cause);
        try (RamBlocks blocks = twoBlocks()) {
            assertThatThrownBy(() -> DirtyTracking.open(mode, blocks))
                    .isInstanceOf(UnsupportedOperationException.class)
                    .hasMessage("dirty tracking mode " + mode.cliName() + " is unavailable: " + cause);
        }
    }

    @Test
    void modesParseFromTheirCommandLineNames() {
        assertThat(DirtyTrackingMode.of("uffd-wp")).isEqualTo(DirtyTrackingMode.UFFD_WP);
        assertThat(DirtyTrackingMode.of("Soft-Dirty")).isEqualTo(DirtyTrackingMode.SOFT_DIRTY);
        assertThatThrownBy(() -> DirtyTrackingMode.of("mprotect")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown dirty tracking mode 'mprotect' (expected one of auto, uffd-wp, soft-dirty, "
                        + "explicit)");
    }
}
