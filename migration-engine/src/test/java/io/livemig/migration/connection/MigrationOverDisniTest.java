package io.livemig.migration.connection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.livemig.migration.destination.IncomingMigration;
import io.livemig.migration.api.DestinationController;
import io.livemig.migration.api.SourceController;
import io.livemig.migration.params.MigrationCapability;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.status.MigrationInfo;
import io.livemig.migration.status.MigrationStatus;
import io.livemig.migration.testing.DirtyingWorkload;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import io.livemig.transport.rdma.verbs.Verbs;
import io.livemig.transport.rdma.verbs.VerbsProvider;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A live migration over the disni provider (DiSNI), and between it and the verbs provider (rdma-core), on a real
 * kernel RDMA stack (Soft-RoCE in {@code scripts/rxe-lab.sh --disni --engine}). Skips with the gate's reason where
 * either provider cannot run (no libdisni on {@code java.library.path}, no device). The device's IPv4 address comes
 * from {@code -Dlivemig.disni.address} (rxe-test.sh sets it).
 *
 * <p>DiSNI delivers no incoming private data, so the capability exchange is one-sided: a disni destination does
 * not see the source's offer and serves both registrations (every block pinned up front, REGISTER REQUESTs
 * answered); a disni source does not see the echo and, as QEMU's source with a zeroed echo, falls back from pin-all
 * to dynamic registration. Every pair must still arrive byte for byte with x-verify passed.
 */
class MigrationOverDisniTest {

    private static final Duration TIMEOUT = Duration.ofMinutes(3);
    private static final long MIB = 1 << 20;

    @BeforeAll
    static void gate() {
        for (String name : List.of("disni", "verbs")) {
            VerbsProvider provider = Verbs.providers().stream().filter(p -> p.name().equals(name)).findFirst()
                    .orElse(null);
            assumeTrue(provider != null, "the " + name + " provider is not on the class path");
            assumeTrue(provider.isAvailable(), () -> String.valueOf(provider.unavailabilityCause().getMessage()));
        }
        assumeTrue(System.getProperty("livemig.disni.address") != null,
                "no -Dlivemig.disni.address (the RDMA device's IPv4 address)");
    }

    @ParameterizedTest(name = "{0}->{1}, pinAll={2}")
    @CsvSource({"disni,disni,false", "disni,disni,true", "disni,verbs,false", "disni,verbs,true",
            "verbs,disni,false", "verbs,disni,true"})
    void aLiveMigrationArrivesByteForByte(String sourceProvider, String destinationProvider, boolean pinAll)
            throws Exception {
        String host = System.getProperty("livemig.disni.address");
        try (RamBlocks blocks = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 24 * MIB),
                new BlockListEntry("zeros", 4 * MIB)));
                DestinationController destination = DestinationController.builder()
                        .devices(RdmaDeviceFactory.named(destinationProvider)).memoryLimit(1L << 30).timeout(TIMEOUT)
                        .build()) {
            fillRandom(blocks.get(0).memory(), 5);
            InetSocketAddress address = destination.listen(new MigrationUri(host, 0));
            MigrationInfo done;
            try (DirtyingWorkload workload = new DirtyingWorkload(blocks.get(0), 500);
                    SourceController source = SourceController.builder(blocks)
                            .devices(RdmaDeviceFactory.named(sourceProvider)).workload(workload).timeout(TIMEOUT)
                            .build()) {
                source.setCapability(MigrationCapability.RDMA_PIN_ALL, pinAll);
                source.setCapability(MigrationCapability.X_VERIFY, true);
                source.setParameters(MigrationParameters.DEFAULTS.withMaxBandwidth(0).withDowntimeLimit(2000));
                done = source.migrate(new MigrationUri(host, address.getPort())).blockLast(TIMEOUT);
            }
            System.out.println(sourceProvider + "->" + destinationProvider + " migration, pinAll=" + pinAll + ": "
                    + done.toQmpJson());
            assertThat(done.status()).isEqualTo(MigrationStatus.COMPLETED);
            IncomingMigration incoming = destination.completion().block(TIMEOUT);
            try (RamBlocks received = incoming.blocks()) {
                for (int i = 0; i < blocks.size(); i++) {
                    assertThat(received.get(i).memory().mismatch(blocks.get(i).memory())).isEqualTo(-1);
                }
                assertThat(incoming.verified()).isTrue();
            }
        }
    }

    private static void fillRandom(MemorySegment memory, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        for (long offset = 0; offset < memory.byteSize(); offset += 8) {
            memory.set(ValueLayout.JAVA_LONG_UNALIGNED, offset, random.nextLong());
        }
    }
}
