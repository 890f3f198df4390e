package io.livemig.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.migration.status.MigrationInfo;
import io.livemig.migration.status.MigrationStatus;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Runs {@link ReactorMigrationSample}: its migration on a small store, then its {@code main}. */
@Timeout(120)
class ReactorMigrationSampleTest {

    @Test
    void theDestinationHoldsTheStoreByteForByteAndTheMigrationCompleted() throws Exception {
        List<MigrationInfo> progress = new CopyOnWriteArrayList<>();
        try (Arena arena = Arena.ofShared()) {
            MemorySegment store = arena.allocate(8L << 20, 4096);
            ReactorMigrationSample.fillRandom(store, 7);
            try (ReactorMigrationSample.Migrated migrated = ReactorMigrationSample.migrate(store,
                    RdmaDeviceFactory.named("soft"), progress::add)) {
                assertThat(migrated.received().size()).isEqualTo(1);
                assertThat(migrated.received().get(0).name()).isEqualTo("store");
                assertThat(migrated.received().get(0).memory().mismatch(store)).isEqualTo(-1);
                assertThat(migrated.last().status().qmpName()).isEqualTo("completed");
            }
        }
        assertThat(progress).first().extracting(MigrationInfo::status).isEqualTo(MigrationStatus.SETUP);
        assertThat(progress).last().extracting(MigrationInfo::status).isEqualTo(MigrationStatus.COMPLETED);
    }

    @Test
    void mainMigrates64MiBAndFindsTheCopyIdentical() throws Exception {
        String printed = SampleOutput.of(() -> ReactorMigrationSample.main(new String[0]));

        assertThat(printed).contains("{\"status\": \"setup\"").contains("completed, copy identical: true");
    }
}
