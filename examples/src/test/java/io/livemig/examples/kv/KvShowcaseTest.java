package io.livemig.examples.kv;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.status.MigrationStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link KvShowcase} end to end: the service migrates live under load and loses no acknowledged write. */
@Timeout(120)
class KvShowcaseTest {

    @Test
    void everyAcknowledgedWriteIsReadableOnTheNewInstanceWithItsLastAcknowledgedValue() throws Exception {
        KvShowcase.Result result = KvShowcase.run(42);
        result.lines().forEach(System.out::println);

        assertThat(result.migration().status()).isEqualTo(MigrationStatus.COMPLETED);
        assertThat(result.downtimeLimitMillis()).isEqualTo(MigrationParameters.DEFAULT_DOWNTIME_LIMIT);
        // The clients wrote to both instances: the migration happened while they were writing.
        assertThat(result.writesOnA()).isGreaterThanOrEqualTo(KvShowcase.WRITES_BEFORE);
        assertThat(result.writesOnB()).isGreaterThanOrEqualTo(KvShowcase.WRITES_AFTER);
        assertThat(result.load().writes()).isEqualTo(result.writesOnA() + result.writesOnB());
        // Every key ever acknowledged was read back from B, and each held its last acknowledged value.
        assertThat(result.check().checked()).isEqualTo(result.load().acknowledged().size());
        assertThat(result.check().firstProblem()).isEmpty();
        assertThat(result.check().lost()).isZero();
        assertThat(result.check().stale()).isZero();
    }
}
