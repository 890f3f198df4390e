package io.livemig.migration.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.migration.params.MigrationParameters;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.scheduler.VirtualTimeScheduler;

/** The token bucket in virtual time: exact bounds, a rate change mid-stream, and QEMU's throttle steps. */
class BandwidthLimiterTest {

    private static final long MIB = 1 << 20;

    @Test
    void writesStartNoFasterThanTheRateAllowsPlusOneWriteAndFollowARateChange() {
        VirtualTimeScheduler time = VirtualTimeScheduler.create();
        AtomicLong rate = new AtomicLong(10 * MIB);
        BandwidthLimiter limiter = new BandwidthLimiter(rate::get, time);
        AtomicLong started = new AtomicLong();
        Flux.range(0, 1000).concatMap(i -> limiter.acquire(MIB).then(reactor.core.publisher.Mono.fromRunnable(
                () -> started.addAndGet(MIB))), 1).subscribe();
        // 10 MiB/s: within each of the first 3 seconds, at most rate × t + one write has started.
        for (int ms = 0; ms <= 3000; ms += 10) {
            assertThat(started.get()).as("at %d ms", ms).isLessThanOrEqualTo(10 * MIB * ms / 1000 + MIB);
            time.advanceTimeBy(Duration.ofMillis(10));
        }
        assertThat(started.get()).isGreaterThanOrEqualTo(29 * MIB);
        // Control bytes are debts too: 5 MiB of them delay the pages by half a second.
        long before = started.get();
        limiter.consume(5 * MIB);
        time.advanceTimeBy(Duration.ofMillis(400));
        assertThat(started.get() - before).isLessThanOrEqualTo(MIB);
        // Raised to 40 MiB/s: within 50 ms (the recheck) the new rate applies.
        rate.set(40 * MIB);
        time.advanceTimeBy(Duration.ofMillis(600));
        long atChange = started.get();
        time.advanceTimeBy(Duration.ofSeconds(1));
        assertThat(started.get() - atChange).isBetween(38 * MIB, 41 * MIB);
        // 0 lifts the cap: everything left starts at once.
        rate.set(0);
        time.advanceTimeBy(Duration.ofMillis(100));
        assertThat(started.get()).isEqualTo(1000 * MIB);
    }

    @Test
    void autoConvergeStepsAsQemuEverySecondRoundWithADirtyRateAboveTheThreshold() {
        AutoConverge converge = new AutoConverge();
        MigrationParameters p = MigrationParameters.DEFAULTS;
        // Dirtied 40% of what was sent: below the 50% threshold, no step.
        assertThat(converge.afterRound(p, 40, 100)).isZero();
        assertThat(converge.afterRound(p, 40, 100)).isZero();
        assertThat(converge.afterRound(p, 60, 100)).isZero();
        assertThat(converge.afterRound(p, 60, 100)).isEqualTo(20);
        assertThat(converge.afterRound(p, 60, 100)).isEqualTo(20);
        assertThat(converge.afterRound(p, 60, 100)).isEqualTo(30);
        MigrationParameters steep = p.withCpuThrottleIncrement(50).withMaxCpuThrottle(60);
        converge.afterRound(steep, 60, 100);
        assertThat(converge.afterRound(steep, 60, 100)).isEqualTo(60);
        converge.afterRound(steep, 60, 100);
        assertThat(converge.afterRound(steep, 60, 100)).isEqualTo(60);
    }
}
