package io.livemig.examples.kv;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.status.MigrationStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link KvShowcase} end to end: the service migrates live under load, loses no acknowledged write, and neither the
 * measured downtime nor the pause its clients saw exceeds the downtime limit.
 */
@Timeout(120)
class KvShowcaseTest {

    /**
     * The limit this test holds the migration to. One second, not QEMU's default 300 ms: CI runs this on two cores
     * shared with the rest of the build, where one garbage collection or descheduled thread in the pause would make
     * a 300 ms assertion fail now and then for reasons that are not the switchover decision's. The default limit's
     * distribution over 20 runs is {@code scripts/showcase.sh --runs 20} (docs/showcase.md).
     */
    private static final long DOWNTIME_LIMIT_MILLIS = 1000;

    @Test
    void everyAcknowledgedWriteIsReadableOnTheNewInstanceAndNoPauseExceedsTheLimit() throws Exception {
        KvShowcase.Result result = KvShowcase.run(42,
                MigrationParameters.DEFAULTS.withDowntimeLimit(DOWNTIME_LIMIT_MILLIS));
        result.lines().forEach(System.out::println);

        assertThat(result.migration().status()).isEqualTo(MigrationStatus.COMPLETED);
        assertThat(result.downtimeLimitMillis()).isEqualTo(DOWNTIME_LIMIT_MILLIS);
        // The clients wrote to both instances: the migration happened while they were writing.
        assertThat(result.writesOnA()).isGreaterThanOrEqualTo(KvShowcase.WRITES_BEFORE);
        assertThat(result.writesOnB()).isGreaterThanOrEqualTo(KvShowcase.WRITES_AFTER);
        assertThat(result.load().writes()).isEqualTo(result.writesOnA() + result.writesOnB());
        // Every key ever acknowledged was read back from B, and each held its last acknowledged value.
        assertThat(result.check().checked()).isEqualTo(result.load().acknowledged().size());
        assertThat(result.check().firstProblem()).isEmpty();
        assertThat(result.check().lost()).isZero();
        assertThat(result.check().stale()).isZero();
        // The pause: what the source measured (pause to the destination's close), and what the clients saw (a
        // write's first try to its acknowledgement, over the switchover to B; at least one write had to wait).
        assertThat(result.downtimeMillis()).as("downtime").isLessThanOrEqualTo(DOWNTIME_LIMIT_MILLIS);
        assertThat(result.load().retries()).as("writes that waited for the switchover").isPositive();
        assertThat(result.load().longestPauseNanos()).as("longest pause a client saw, ns").isPositive();
        assertThat(result.clientPauseMillis()).as("longest pause a client saw").isLessThanOrEqualTo(
                DOWNTIME_LIMIT_MILLIS);
    }
}
