package io.livemig.migration.ram;

import java.util.List;

/**
 * Finds the pages written in a set of {@link RamBlocks} between pre-copy rounds: one strategy per
 * {@link DirtyTrackingMode}, made by {@link DirtyTracking#open}. The engine {@linkplain #start() starts} it before
 * the bulk round and {@linkplain #syncAndClear() harvests} it at each later round; the counts it returns feed the
 * dirty-rate estimate and auto-converge the same way in every mode.
 *
 * <p>A tracker spans all blocks rather than one: the soft-dirty clear is process-wide, so one harvest must read
 * every block before clearing once. Used by one thread at a time; {@link #close()} is idempotent and releases what
 * the kernel holds (the userfaultfd, the pagemap fd), lifting any write-protection.
 */
public interface DirtyTracker extends AutoCloseable {

    /**
     * The mode this tracker implements (never {@link DirtyTrackingMode#AUTO}).
     *
     * @return the active mode
     */
    DirtyTrackingMode mode();

    /**
     * Why this mode is active: for {@link DirtyTrackingMode#AUTO}, why each better mode was passed over.
     *
     * @return for example {@code "requested"} or {@code "auto: uffd-wp unavailable (...)"}
     */
    String reason();

    /**
     * Starts tracking: every page reads clean from now on, and every later write is found by the next
     * {@link #syncAndClear()}.
     */
    void start();

    /**
     * Takes the pages written since {@link #start()} or the previous call, block by block, and clears them: each
     * write after {@link #start()} is in exactly one snapshot (a page is in a later one if written again).
     *
     * @return one snapshot per block, in the blocks' order
     */
    List<DirtyPages> syncAndClear();

    /**
     * Whether {@link #syncAndClear()} reads and clears each page in one step, so that a write racing the harvest is
     * in this snapshot or the next. When false (soft-dirty: a read of every block, then one clear), a write landing
     * between the read and the clear is in neither; the engine then holds the application's writes around the
     * harvest ({@code Workload.holdWrites}).
     *
     * @return true (the default) for explicit marks and userfaultfd write-protection
     */
    default boolean atomicHarvest() {
        return true;
    }

    /**
     * Pages written since the last harvest, without clearing (a moment's view while writers run).
     *
     * @return the count over all blocks
     */
    long dirtyPages();

    /** Stops tracking and releases the kernel resources (idempotent). */
    @Override
    void close();
}
