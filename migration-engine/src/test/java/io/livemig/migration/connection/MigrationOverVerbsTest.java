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
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A live migration over the rdma-core provider ({@code verbs}): a real kernel RDMA stack (Soft-RoCE in
 * {@code scripts/rxe-lab.sh}, or a NIC). Skips with the provider's gate reason where there is no device.
 * The device's IPv4 address comes from {@code -Dlivemig.verbs.testAddress} (rxe-test.sh sets it). With
 * {@code multifd}, two queue pairs in one protection domain at the destination ({@code scripts/rxe-lab.sh --multifd}).
 */
class MigrationOverVerbsTest {

    private static final Duration TIMEOUT = Duration.ofMinutes(3);
    private static final long MIB = 1 << 20;

    @BeforeAll
    static void gate() {
        VerbsProvider verbs = Verbs.providers().stream().filter(p -> p.name().equals("verbs")).findFirst()
                .orElse(null);
        assumeTrue(verbs != null, "the verbs provider is not on the class path");
        assumeTrue(verbs.isAvailable(), () -> String.valueOf(verbs.unavailabilityCause().getMessage()));
        assumeTrue(System.getProperty("livemig.verbs.testAddress") != null,
                "no -Dlivemig.verbs.testAddress (the RDMA device's IPv4 address)");
    }

    @ParameterizedTest(name = "pinAll={0}")
    @ValueSource(booleans = {false, true})
    void aLiveMigrationOverTheKernelsRdmaStackArrivesByteForByte(boolean pinAll) throws Exception {
        String host = System.getProperty("livemig.verbs.testAddress");
        RdmaDeviceFactory verbs = RdmaDeviceFactory.named("verbs");
        try (RamBlocks blocks = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 24 * MIB),
                new BlockListEntry("zeros", 4 * MIB)));
                DestinationController destination = DestinationController.builder().devices(verbs)
                        .memoryLimit(1L << 30).timeout(TIMEOUT).build()) {
            fillRandom(blocks.get(0).memory(), 5);
            InetSocketAddress address = destination.listen(new MigrationUri(host, 0));
            MigrationInfo done;
            try (DirtyingWorkload workload = new DirtyingWorkload(blocks.get(0), 500);
                    SourceController source = SourceController.builder(blocks).devices(verbs).workload(workload)
                            .timeout(TIMEOUT).build()) {
                source.setCapability(MigrationCapability.RDMA_PIN_ALL, pinAll);
                source.setCapability(MigrationCapability.X_VERIFY, true);
                source.setParameters(MigrationParameters.DEFAULTS.withMaxBandwidth(0).withDowntimeLimit(2000));
                done = source.migrate(new MigrationUri(host, address.getPort())).blockLast(TIMEOUT);
            }
            System.out.println("verbs migration, pinAll=" + pinAll + ": " + done.toQmpJson());
            assertThat(done.status()).isEqualTo(MigrationStatus.COMPLETED);
            assertArrivedVerified(destination.completion().block(TIMEOUT), blocks);
        }
    }

    /**
     * Two RC connections ({@code multifd}): the destination accepts the second into the first's protection domain,
     * so the rkeys of its REGISTER RESULTs (dynamic) and of its block list (pin-all) are valid on both queue pairs;
     * the chunks striped onto the second one arrive only if they are. Over the soft provider this is
     * {@link MultifdTest}; here it is the kernel's PD and rkey checks that decide.
     */
    @ParameterizedTest(name = "channels=2, pinAll={0}")
    @ValueSource(booleans = {false, true})
    void aMultifdMigrationOverTwoQueuePairsInOneProtectionDomainArrivesByteForByte(boolean pinAll) throws Exception {
        String host = System.getProperty("livemig.verbs.testAddress");
        RdmaDeviceFactory verbs = RdmaDeviceFactory.named("verbs");
        AtomicInteger sourceConnections = new AtomicInteger();
        RdmaDeviceFactory counting = () -> {
            sourceConnections.incrementAndGet();
            return verbs.open();
        };
        try (RamBlocks blocks = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 16 * MIB),
                new BlockListEntry("vga.vram", 3 * MIB)));
                DestinationController destination = DestinationController.builder().devices(verbs)
                        .memoryLimit(1L << 30).timeout(TIMEOUT).build()) {
            fillRandom(blocks.get(0).memory(), 1);
            fillRandom(blocks.get(1).memory(), 2);
            InetSocketAddress address = destination.listen(new MigrationUri(host, 0));
            MigrationInfo done;
            String tracking;
            // 19 MiB is below the default RAM per channel: every channel is opened all the same.
            try (SourceController source = SourceController.builder(blocks).devices(counting).timeout(TIMEOUT)
                    .multifdChannelBytes(0).build()) {
                source.setCapability(MigrationCapability.MULTIFD, true);
                source.setCapability(MigrationCapability.RDMA_PIN_ALL, pinAll);
                source.setCapability(MigrationCapability.X_VERIFY, true);
                // The second channel joins once it connected, beside the bulk round: 8 MiB/s makes the round last
                // over 2 s, so that it surely joins before the round ends (rxe connects take a fraction of that).
                source.setParameters(MigrationParameters.DEFAULTS.withMaxBandwidth(8L << 20).withMultifdChannels(2));
                done = source.migrate(new MigrationUri(host, address.getPort())).blockLast(TIMEOUT);
                tracking = source.dirtyTracking();
            }
            System.out.println("verbs multifd migration, pinAll=" + pinAll + ": " + done.toQmpJson() + ", " + tracking);
            assertThat(done.status()).isEqualTo(MigrationStatus.COMPLETED);
            // Registration pins the RAM, and a pinned page stays soft-dirty: auto never picks soft-dirty here (it
            // sent the whole RAM every round, 74 rounds for these 19 MiB, until it did not).
            assertThat(tracking).doesNotStartWith("dirty tracking: soft-dirty");
            assertThat(done.ram().transferred()).as("bytes sent for %d of RAM", blocks.totalBytes())
                    .isLessThan(2 * blocks.totalBytes());
            assertThat(sourceConnections).as("connections the source opened").hasValue(2);
            // WRITEs went over the second queue pair with rkeys from the first one's protection domain.
            assertThat(done.ram().multifdBytes()).as("multifd-bytes").isPositive();
            assertArrivedVerified(destination.completion().block(TIMEOUT), blocks);
        }
    }

    /** Every block arrived byte for byte, and the destination's x-verify passed. */
    private static void assertArrivedVerified(IncomingMigration incoming, RamBlocks blocks) {
        try (RamBlocks received = incoming.blocks()) {
            for (int i = 0; i < blocks.size(); i++) {
                assertThat(received.get(i).memory().mismatch(blocks.get(i).memory())).as(blocks.get(i).name())
                        .isEqualTo(-1);
            }
            assertThat(incoming.verified()).isTrue();
        }
    }

    private static void fillRandom(MemorySegment memory, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        for (long offset = 0; offset < memory.byteSize(); offset += 8) {
            memory.set(ValueLayout.JAVA_LONG_UNALIGNED, offset, random.nextLong());
        }
    }
}
