package io.livemig.migration.source;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * {@code max-bandwidth} as backpressure on the page stream: a token bucket in which every byte sent
 * (page writes and control messages alike) is a debt that drains at the configured rate. A page write
 * may start only once the debt before it is paid, so over any interval T the bytes started stay below
 * {@code rate × T} plus one write plus the control bytes sent meanwhile. Waiting is a timer on
 * {@code timer} (never a sleep, never on an event loop), re-checked at least every
 * {@link #RECHECK} so a changed rate takes effect promptly. A rate of 0 means unlimited, as QEMU's
 * {@code RATE_LIMIT_DISABLED}.
 *
 * <p>Writes acquire one at a time (the round sender's sequential stage); control bytes may be added
 * from any thread.
 */
public final class BandwidthLimiter {

    /** Longest single wait before the rate is read again. */
    static final Duration RECHECK = Duration.ofMillis(50);

    private final LongSupplier rate;
    private final Scheduler timer;
    private double debt;
    private long lastNanos;

    /**
     * Creates a limiter.
     *
     * @param rate bytes per second, read on every decision (0 = unlimited)
     * @param timer the clock and the scheduler of waits
     */
    public BandwidthLimiter(LongSupplier rate, Scheduler timer) {
        this.rate = rate;
        this.timer = timer;
        this.lastNanos = timer.now(TimeUnit.NANOSECONDS);
    }

    /**
     * Waits until {@code bytes} may go, then counts them.
     *
     * @param bytes the write's length
     * @return completes when the write may start
     */
    public Mono<Void> acquire(long bytes) {
        return Mono.defer(() -> {
            long wait = tryTake(bytes);
            if (wait == 0) {
                return Mono.empty();
            }
            Duration delay = Duration.ofNanos(Math.min(wait, RECHECK.toNanos()));
            return Mono.delay(delay, timer).then(acquire(bytes));
        });
    }

    /**
     * Counts bytes that were sent without asking (control messages, QEMU FILE data).
     *
     * @param bytes bytes sent
     */
    public synchronized void consume(long bytes) {
        drain();
        debt += bytes;
    }

    /** Returns 0 and takes the bytes when the debt is paid, else the nanoseconds until it will be. */
    private synchronized long tryTake(long bytes) {
        long bytesPerSecond = drain();
        if (bytesPerSecond <= 0) {
            debt = 0;
            return 0;
        }
        if (debt <= 0) {
            debt = bytes;
            return 0;
        }
        return Math.max(1, (long) Math.ceil(debt * 1e9 / bytesPerSecond));
    }

    private long drain() {
        long now = timer.now(TimeUnit.NANOSECONDS);
        long bytesPerSecond = rate.getAsLong();
        double paid = bytesPerSecond <= 0 ? Double.MAX_VALUE : (now - lastNanos) * (double) bytesPerSecond / 1e9;
        debt = Math.max(0, debt - paid);
        lastNanos = now;
        return bytesPerSecond;
    }
}
