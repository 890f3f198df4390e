package io.livemig.migration.status;

import java.util.OptionalLong;
import java.util.function.LongSupplier;

/**
 * The live counters of one migration, from which {@link MigrationInfo} snapshots are taken. Written by
 * the migration's worker, read by anyone ({@code query-migrate}, metrics): every method synchronises on
 * the tracker, which is cheap at the rate of rounds and status changes (the per-write counters are
 * added once per write batch, not per page).
 */
public final class MigrationTracker {

    private static final long PAGE = 4096;

    private final LongSupplier nanoClock;
    /** False on the receiving end, whose snapshots leave the {@code ram} statistics out (see {@link #incoming()}). */
    private final boolean countsRam;
    private MigrationStatus status = MigrationStatus.NONE;
    private long startNanos;
    private long setupNanos = -1;
    private long pauseNanos = -1;
    private long endNanos = -1;
    private long total;
    private long remaining;
    private long transferred;
    private long duplicatePages;
    private long normalPages;
    private long precopyBytes;
    private long downtimeBytes;
    private long multifdBytes;
    private long dirtySyncCount;
    private long dirtyPagesRate;
    private double mbps;
    private long pagesPerSecond;
    private long expectedDowntime = -1;
    private int throttlePercent;
    private String errorDesc;
    /** The last live sample (tracker clock, ns) and the counters then, for the rates between samples. */
    private long sampleNanos = -1;
    private long sampleTransferred;
    private long sampleNormalPages;

    /**
     * Creates a tracker on the system's monotonic clock.
     */
    public MigrationTracker() {
        this(System::nanoTime);
    }

    /**
     * Creates a tracker on a given clock (tests).
     *
     * @param nanoClock monotonic nanoseconds
     */
    public MigrationTracker(LongSupplier nanoClock) {
        this(nanoClock, true);
    }

    private MigrationTracker(LongSupplier nanoClock, boolean countsRam) {
        this.nanoClock = nanoClock;
        this.countsRam = countsRam;
    }

    /**
     * A tracker for the receiving end of a migration, whose snapshots have no {@code ram} statistics, as QEMU's
     * {@code query-migrate} on an {@code -incoming} side has none: the pages arrive by RDMA WRITE, which the
     * destination's CPU never sees, so it cannot count transferred or normal pages, and zeros in their place would
     * read as a migration that moved nothing. The status and the times are the destination's own.
     *
     * @return the tracker, on the system's monotonic clock
     */
    public static MigrationTracker incoming() {
        return new MigrationTracker(System::nanoTime, false);
    }

    /**
     * Starts a migration: status setup, the clock running, counters zero.
     *
     * @param totalBytes the RAM to migrate
     */
    public synchronized void start(long totalBytes) {
        status = MigrationStatus.SETUP;
        startNanos = nanoClock.getAsLong();
        setupNanos = pauseNanos = endNanos = expectedDowntime = -1;
        total = remaining = totalBytes;
        transferred = duplicatePages = normalPages = precopyBytes = downtimeBytes = multifdBytes = 0;
        dirtySyncCount = dirtyPagesRate = pagesPerSecond = 0;
        mbps = 0;
        throttlePercent = 0;
        errorDesc = null;
        sampleNanos = -1;
        sampleTransferred = sampleNormalPages = 0;
    }

    /**
     * Moves to a new status; entering active ends the setup time, entering device starts the downtime.
     *
     * @param next the new status
     */
    public synchronized void status(MigrationStatus next) {
        long now = nanoClock.getAsLong();
        if (next == MigrationStatus.ACTIVE && setupNanos < 0) {
            setupNanos = now;
        }
        if ((next == MigrationStatus.PRE_SWITCHOVER || next == MigrationStatus.DEVICE) && pauseNanos < 0) {
            pauseNanos = now;
        }
        if (next.isFinished()) {
            endNanos = now;
        }
        if (next == MigrationStatus.COMPLETED && setupNanos >= 0) {
            // QEMU's migration_calculate_complete: throughput over the total time less the setup time.
            double transferMillis = (now - setupNanos) / 1e6;
            if (transferMillis > 0) {
                mbps = transferred * 8.0 / transferMillis / 1000.0;
                pagesPerSecond = (long) (normalPages / (transferMillis / 1000.0));
            }
        }
        status = next;
    }

    /**
     * The tracker's clock: monotonic nanoseconds (virtual time in tests), what round durations are measured on.
     *
     * @return nanoseconds
     */
    public long nanoTime() {
        return nanoClock.getAsLong();
    }

    /**
     * Starts the downtime now: the application is being paused for switchover (QEMU's
     * {@code downtime_start}, taken before the VM stops).
     */
    public synchronized void pausing() {
        if (pauseNanos < 0) {
            pauseNanos = nanoClock.getAsLong();
        }
    }

    /**
     * Takes a live sample: {@code mbps} and {@code pages-per-second} become the rates since the previous
     * sample (QEMU recomputes them every 100 ms in {@code migration_update_counters}), so they move while
     * a long round runs rather than only when it ends.
     */
    public synchronized void sample() {
        long now = nanoClock.getAsLong();
        if (sampleNanos >= 0 && now > sampleNanos) {
            double seconds = (now - sampleNanos) / 1e9;
            mbps = (transferred - sampleTransferred) * 8 / 1e6 / seconds;
            pagesPerSecond = (long) ((normalPages - sampleNormalPages) / seconds);
        }
        sampleNanos = now;
        sampleTransferred = transferred;
        sampleNormalPages = normalPages;
    }

    /**
     * Fails the migration (or records a cancel) with a reason.
     *
     * @param end failed or cancelled
     * @param description QEMU's {@code error-desc}
     */
    public synchronized void finish(MigrationStatus end, String description) {
        status(end);
        errorDesc = end == MigrationStatus.FAILED ? description : null;
    }

    /**
     * The current status.
     *
     * @return the status
     */
    public synchronized MigrationStatus status() {
        return status;
    }

    /**
     * Adds bytes that went on the wire (page data and control/stream bytes).
     *
     * @param bytes bytes sent
     */
    public synchronized void transferred(long bytes) {
        transferred += bytes;
        if (pauseNanos >= 0) {
            downtimeBytes += bytes;
        } else {
            precopyBytes += bytes;
        }
    }

    /**
     * Adds the bytes of an RDMA WRITE that completed on an extra channel ({@code multifd}); they were counted as
     * transferred already.
     *
     * @param bytes the WRITE's length
     */
    public synchronized void multifdBytes(long bytes) {
        multifdBytes += bytes;
    }

    /**
     * Counts one completed RDMA WRITE: its pages are {@code normal}, its bytes are transferred and no
     * longer remaining.
     *
     * @param bytes the write's length (whole pages)
     */
    public synchronized void written(long bytes) {
        normalPages += bytes / PAGE;
        remaining = Math.max(0, remaining - bytes);
        transferred(bytes);
    }

    /**
     * Counts pages sent as COMPRESS.
     *
     * @param pages zero pages
     */
    public synchronized void duplicatePages(long pages) {
        duplicatePages += pages;
        remaining = Math.max(0, remaining - pages * PAGE);
    }

    /**
     * Records a dirty sync (the start of a round) and the bytes left after it.
     *
     * @param remainingBytes dirty bytes to send
     */
    public synchronized void dirtySync(long remainingBytes) {
        dirtySyncCount++;
        remaining = remainingBytes;
    }

    /**
     * The bytes still to send in the running round.
     *
     * @param remainingBytes bytes
     */
    public synchronized void remaining(long remainingBytes) {
        remaining = remainingBytes;
    }

    /**
     * The rates measured over the last round.
     *
     * @param bytesPerSecond throughput
     * @param dirtyPagesPerSecond dirty rate
     * @param pagesPerSec pages sent per second
     * @param expectedDowntimeMillis the pause the remainder would take now
     */
    public synchronized void rates(long bytesPerSecond, long dirtyPagesPerSecond, long pagesPerSec,
            long expectedDowntimeMillis) {
        if (sampleNanos < 0) {
            // No live sampler runs (tests driving a tracker by hand): the round's figures are the rates.
            mbps = bytesPerSecond * 8 / 1e6;
            pagesPerSecond = pagesPerSec;
        }
        dirtyPagesRate = dirtyPagesPerSecond;
        expectedDowntime = expectedDowntimeMillis;
    }

    /**
     * The auto-converge throttle now applied.
     *
     * @param percent 0 to 99
     */
    public synchronized void throttle(int percent) {
        throttlePercent = percent;
    }

    /**
     * The throttle now applied.
     *
     * @return percent
     */
    public synchronized int throttle() {
        return throttlePercent;
    }

    /**
     * When the pause was requested (the tracker's clock, ns), or -1 if not yet.
     *
     * @return nanoseconds, or -1
     */
    public synchronized long pausedAt() {
        return pauseNanos;
    }

    /**
     * The downtime so far (or final), ms; -1 before the pause.
     *
     * @return ms
     */
    public synchronized long downtimeMillis() {
        if (pauseNanos < 0) {
            return -1;
        }
        long end = endNanos >= 0 ? endNanos : nanoClock.getAsLong();
        return (end - pauseNanos) / 1_000_000;
    }

    /**
     * A snapshot as {@code query-migrate} reports it in the current status.
     *
     * @return the snapshot
     */
    public synchronized MigrationInfo snapshot() {
        if (status == MigrationStatus.NONE) {
            return MigrationInfo.NONE;
        }
        long now = endNanos >= 0 ? endNanos : nanoClock.getAsLong();
        OptionalLong totalTime = OptionalLong.of((now - startNanos) / 1_000_000);
        OptionalLong setup = setupNanos >= 0 ? OptionalLong.of((setupNanos - startNanos) / 1_000_000)
                : OptionalLong.empty();
        boolean completed = status == MigrationStatus.COMPLETED;
        OptionalLong expected = !completed && status != MigrationStatus.FAILED && status != MigrationStatus.CANCELLED
                && expectedDowntime >= 0 ? OptionalLong.of(expectedDowntime) : OptionalLong.empty();
        OptionalLong downtime = completed && pauseNanos >= 0 ? OptionalLong.of((endNanos - pauseNanos) / 1_000_000)
                : OptionalLong.empty();
        OptionalLong throttle = throttlePercent > 0 ? OptionalLong.of(throttlePercent) : OptionalLong.empty();
        RamInfo ram = !countsRam ? null : new RamInfo(transferred, completed ? 0 : remaining, total, duplicatePages, normalPages,
                normalPages * PAGE, dirtyPagesRate, mbps, dirtySyncCount, PAGE, pagesPerSecond, precopyBytes,
                downtimeBytes, multifdBytes);
        return new MigrationInfo(status, totalTime, setup, expected, downtime, ram, throttle, errorDesc);
    }
}
