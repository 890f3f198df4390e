package io.livemig.migration.status;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** query-migrate's JSON: QEMU's member names, status values and which members appear in which status. */
class MigrationInfoTest {

    @Test
    void statusValuesAreQemusNamesInQemusOrder() {
        assertThat(Arrays.stream(MigrationStatus.values()).map(MigrationStatus::qmpName)).containsExactly(
                "none", "setup", "cancelling", "cancelled", "active", "completed", "failed", "pre-switchover",
                "device");
    }

    @Test
    void beforeAnyMigrationQueryMigrateIsAnEmptyObject() {
        assertThat(new MigrationTracker().snapshot().toQmpJson()).isEqualTo("{}");
    }

    @Test
    void anActiveMigrationReportsExpectedDowntimeButNoDowntime() {
        AtomicLong clock = new AtomicLong();
        MigrationTracker tracker = new MigrationTracker(clock::get);
        tracker.start(8L << 20);
        clock.addAndGet(12_000_000);
        tracker.status(MigrationStatus.ACTIVE);
        tracker.dirtySync(8L << 20);
        tracker.written(1L << 20);
        tracker.transferred(48);
        tracker.duplicatePages(256);
        tracker.rates(100_000_000, 2500, 24_000, 42);
        clock.addAndGet(88_000_000);
        assertThat(tracker.snapshot().toQmpJson()).isEqualTo("{\"status\": \"active\", \"ram\": {"
                + "\"transferred\": 1048624, \"remaining\": 6291456, \"total\": 8388608, \"duplicate\": 256, "
                + "\"normal\": 256, \"normal-bytes\": 1048576, \"dirty-pages-rate\": 2500, \"mbps\": 800.0, "
                + "\"dirty-sync-count\": 1, \"postcopy-requests\": 0, \"page-size\": 4096, \"multifd-bytes\": 0, "
                + "\"pages-per-second\": 24000, \"precopy-bytes\": 1048624, \"downtime-bytes\": 0, "
                + "\"postcopy-bytes\": 0, \"dirty-sync-missed-zero-copy\": 0}, \"total-time\": 100, "
                + "\"expected-downtime\": 42, \"setup-time\": 12}");
    }

    @Test
    void aCompletedMigrationReportsDowntimeAndBytesSentWhilePaused() {
        AtomicLong clock = new AtomicLong();
        MigrationTracker tracker = new MigrationTracker(clock::get);
        tracker.start(4096);
        tracker.status(MigrationStatus.ACTIVE);
        tracker.written(4096);
        clock.addAndGet(5_000_000);
        tracker.status(MigrationStatus.PRE_SWITCHOVER);
        tracker.status(MigrationStatus.DEVICE);
        tracker.written(4096);
        clock.addAndGet(7_000_000);
        tracker.status(MigrationStatus.COMPLETED);
        MigrationInfo info = tracker.snapshot();
        assertThat(info.downtime()).hasValue(7);
        assertThat(info.expectedDowntime()).isEmpty();
        assertThat(info.ram().precopyBytes()).isEqualTo(4096);
        assertThat(info.ram().downtimeBytes()).isEqualTo(4096);
        assertThat(info.toQmpJson()).startsWith("{\"status\": \"completed\", \"ram\": {\"transferred\": 8192, "
                + "\"remaining\": 0,").endsWith("\"total-time\": 12, \"downtime\": 7, \"setup-time\": 0}");
    }

    @Test
    void aFailedMigrationCarriesErrorDescEscaped() {
        MigrationTracker tracker = new MigrationTracker();
        tracker.start(0);
        tracker.finish(MigrationStatus.FAILED, "cannot connect to \"x\"\n");
        assertThat(tracker.snapshot().toQmpJson()).contains("\"status\": \"failed\"")
                .endsWith("\"error-desc\": \"cannot connect to \\\"x\\\"\\n\"}");
        tracker.throttle(30);
        assertThat(tracker.snapshot().toQmpJson()).contains("\"cpu-throttle-percentage\": 30");
    }
}
