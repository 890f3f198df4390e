package io.livemig.migration.source;

import io.livemig.migration.ram.RamBlock;

/**
 * What a switchover would cost now, with everything {@code downtime} covers, and QEMU's switchover test on it.
 *
 * <p>QEMU's pre-copy switches over when {@code pending / bandwidth <= downtime-limit}
 * ({@code migration_iteration_run}). But the downtime it then reports runs from {@code downtime_start} (before the
 * VM stops) to the end of {@code migration_completion}: the pause, the last dirty sync, the final RAM pass, the
 * device state, EOF, and the destination's load and close. With an application that dirties scattered pages, the
 * RAM term alone was also wrong twice over: the bulk round's bandwidth comes from 1 MiB writes, and a round of
 * scattered 4 KiB pages costs per write, not per byte. Measured under the showcase's load: 390 to 1,500 ms of
 * downtime against a 300 ms limit.
 *
 * <p>So the expected downtime here is the sum of its parts, each measured in this migration or in the previous
 * switchovers of the same source:
 * <pre>
 * expected = pause + sync + pages x page-cost + completion
 *   pause       Workload.pause(): the last switchover's, else 0 (unknown before the first one)
 *   sync        the last dirty sync of this migration (the final round starts with one)
 *   page-cost   the last round of dirty pages: its duration / its pages, fixed per-round costs included;
 *               or bytes / avail-switchover-bandwidth when that is set (QEMU's override)
 *   completion  the device state, EOF and the destination's close: the last switchover's, and at least
 *               COMPLETION_EXCHANGES control exchanges as timed at the end of this migration's last round
 * </pre>
 * A round of dirty pages must have been timed before the first switchover, unless nothing is dirty: after the
 * bulk round alone the page cost is unknown (the figure reported then uses the bulk round's bandwidth). Thread-safe:
 * a source's successive migrations share one.
 */
public final class SwitchoverEstimate {

    /**
     * Control exchanges in the completion: the state and EOF (QEMU FILE, one READY each at least) and the
     * destination's load and close.
     */
    public static final int COMPLETION_EXCHANGES = 3;

    private static final long NONE = -1;

    private long syncNanos;
    private long pageNanos = NONE;
    private long exchangeNanos;
    private long pauseNanos;
    private long completionNanos;
    /** The completion estimate before the last switchover, and that switchover's completion so far. */
    private long completionBefore;
    private long lastCompletion;

    /**
     * A dirty sync took this long.
     *
     * @param nanos its duration
     */
    public synchronized void dirtySync(long nanos) {
        syncNanos = Math.max(0, nanos);
    }

    /**
     * A pre-copy round ended.
     *
     * @param pages pages it sent (written and COMPRESS)
     * @param nanos its duration, from its start to its REGISTER FINISHED
     * @param bulk whether it was the bulk round (every page, in 1 MiB writes)
     */
    public synchronized void round(long pages, long nanos, boolean bulk) {
        if (!bulk && pages > 0) {
            pageNanos = Math.max(1, nanos / pages);
        }
    }

    /**
     * A control message waited this long for the destination (its READY, or its answer).
     *
     * @param nanos the wait
     */
    public synchronized void exchange(long nanos) {
        exchangeNanos = Math.max(0, nanos);
    }

    /**
     * A switchover happened: its pause and its completion, for the next estimates (the running estimate moves
     * half way to each measurement, so one slow switchover raises the next estimate at once, and a fast one
     * lowers it by half).
     *
     * @param pause how long {@code Workload.pause()} took
     * @param completion from the end of the final round to the destination's close
     */
    public synchronized void switchedOver(long pause, long completion) {
        completionBefore = completionNanos;
        lastCompletion = completion;
        pauseNanos = running(pauseNanos, pause);
        completionNanos = running(completionBefore, completion);
    }

    /**
     * The last switchover's connection closed, this long after the destination finished: part of its downtime
     * (QEMU's ends when the migration thread cleaned up), added to its completion.
     *
     * @param nanos the close
     */
    public synchronized void connectionClosed(long nanos) {
        lastCompletion += Math.max(0, nanos);
        completionNanos = running(completionBefore, lastCompletion);
    }

    private static long running(long estimate, long measured) {
        return Math.max(measured, estimate == 0 ? measured : (estimate + measured) / 2);
    }

    /**
     * The downtime a switchover would take now ({@code expected-downtime}).
     *
     * @param dirtyBytes what the final round would send
     * @param availSwitchoverBandwidth the user's bandwidth for the final round, bytes/s; 0 to use the measured
     *        page cost
     * @param bandwidth the last round's bandwidth, bytes/s: the RAM term while no round of dirty pages was timed
     * @return ms, rounded up
     */
    public synchronized long expectedDowntimeMillis(long dirtyBytes, long availSwitchoverBandwidth, long bandwidth) {
        long ram;
        if (dirtyBytes == 0) {
            ram = 0;
        } else if (availSwitchoverBandwidth > 0 || pageNanos == NONE) {
            long perSecond = availSwitchoverBandwidth > 0 ? availSwitchoverBandwidth : Math.max(1, bandwidth);
            ram = (long) Math.ceil(dirtyBytes * 1e9 / perSecond);
        } else {
            ram = Math.ceilDiv(dirtyBytes, RamBlock.PAGE_SIZE) * pageNanos;
        }
        long nanos = pauseNanos + syncNanos + ram + completion();
        return Math.ceilDiv(nanos, 1_000_000);
    }

    /**
     * QEMU's switchover test on the whole downtime: whether the expected downtime fits the limit. When nothing
     * is dirty there is nothing left to gain by iterating, so it passes whatever the fixed costs; while no round
     * of dirty pages was timed (and no {@code avail-switchover-bandwidth} set) it fails.
     *
     * @param dirtyBytes what the final round would send
     * @param availSwitchoverBandwidth as {@link #expectedDowntimeMillis}
     * @param bandwidth as {@link #expectedDowntimeMillis}
     * @param downtimeLimitMillis {@code downtime-limit}
     * @return true to switch over now
     */
    public synchronized boolean fits(long dirtyBytes, long availSwitchoverBandwidth, long bandwidth,
            long downtimeLimitMillis) {
        if (dirtyBytes == 0) {
            return true;
        }
        if (availSwitchoverBandwidth == 0 && pageNanos == NONE) {
            return false;
        }
        return expectedDowntimeMillis(dirtyBytes, availSwitchoverBandwidth, bandwidth) <= downtimeLimitMillis;
    }

    /**
     * The completion's estimate.
     *
     * @return ns
     */
    synchronized long completion() {
        return Math.max(completionNanos, COMPLETION_EXCHANGES * exchangeNanos);
    }

    @Override
    public synchronized String toString() {
        return "switchover estimate: pause " + pauseNanos / 1_000_000 + " ms, sync " + syncNanos / 1_000_000
                + " ms, page " + (pageNanos == NONE ? "unknown" : pageNanos / 1000 + " us") + ", completion "
                + completion() / 1_000_000 + " ms";
    }
}
