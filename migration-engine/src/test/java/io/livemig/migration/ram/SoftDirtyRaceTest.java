package io.livemig.migration.ram;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.livemig.migration.api.DestinationController;
import io.livemig.migration.api.MigrationFailedException;
import io.livemig.migration.api.SourceController;
import io.livemig.migration.api.Workload;
import io.livemig.migration.destination.IncomingMigration;
import io.livemig.migration.params.MigrationCapability;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.status.MigrationInfo;
import io.livemig.migration.status.MigrationStatus;
import io.livemig.migration.api.WriteGate;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import io.livemig.transport.rdma.channel.RdmaIoHandler;
import io.livemig.transport.rdma.verbs.soft.InJvmFabric;
import io.livemig.transport.rdma.verbs.soft.SoftVerbsProvider;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * Soft-dirty's read-then-clear race in a whole live migration, made deterministic: {@link SoftDirtyTracker}'s test
 * hook runs between the first pre-copy harvest's pagemap read and its {@code clear_refs}, and there the application
 * writes a page. An application that holds its writes ({@link Workload#holdWrites}) makes that write wait for the
 * hold's release, after the clear, so a later round carries it and the destination holds the source's bytes; one
 * that cannot hold writes the page before the clear, the write is lost, and x-verify refuses the migration. Needs
 * soft-dirty (the lab's Linux 6.1 guest: {@code scripts/rxe-lab.sh --dirty-tracking}); skipped elsewhere with the
 * gate's cause.
 */
class SoftDirtyRaceTest {

    /** {@code -Dlivemig.test.timeoutScale} (scripts/rxe-lab.sh: 5): the lab's guest is emulated. */
    private static final long SCALE = Long.getLong("livemig.test.timeoutScale", 1);
    private static final Duration TIMEOUT = Duration.ofSeconds(30).multipliedBy(SCALE);
    private static final long MIB = 1 << 20;
    private static final MigrationUri ANY = new MigrationUri("127.0.0.1", 0);
    /** Where the application writes during the harvest: a page in the middle of the block, already populated. */
    private static final long RACE_OFFSET = 517 * RamBlock.PAGE_SIZE + 64;
    private static final long RACE_VALUE = 0x52414345L;

    private EventLoopGroup group;
    private InJvmFabric fabric;
    private RdmaDeviceFactory devices;

    @BeforeEach
    void start() {
        assumeTrue(DirtyTracking.isAvailable(DirtyTrackingMode.SOFT_DIRTY),
                () -> DirtyTracking.unavailabilityCause(DirtyTrackingMode.SOFT_DIRTY).get());
        group = new MultiThreadIoEventLoopGroup(2, RdmaIoHandler.newFactory());
        fabric = new InJvmFabric();
        devices = () -> new SoftVerbsProvider().open(fabric);
    }

    @AfterEach
    void stop() throws InterruptedException {
        SoftDirtyTracker.betweenReadAndClear = null;
        if (group != null) {
            group.shutdownGracefully(0, 5, TimeUnit.SECONDS).await(20, TimeUnit.SECONDS);
            fabric.close();
        }
    }

    @Test
    void aWriteBetweenTheReadAndTheClearWaitsForTheHoldAndArrives() throws Exception {
        try (RamBlocks blocks = populated();
                GatedApplication application = new GatedApplication(blocks.get(0), true);
                DestinationController destination = destination();
                SourceController source = source(blocks, application)) {
            AtomicInteger harvests = race(application, source);
            InetSocketAddress address = destination.listen(ANY);
            List<MigrationInfo> progress = source.migrate(uri(address)).collectList().block(TIMEOUT);

            assertThat(progress.getLast().status()).isEqualTo(MigrationStatus.COMPLETED);
            assertThat(harvests.get()).as("harvests: a pre-copy one, the final one").isGreaterThanOrEqualTo(2);
            assertThat(application.writes()).as("writes asked for between a read and its clear").isEqualTo(1);
            IncomingMigration incoming = destination.completion().block(TIMEOUT);
            try (RamBlocks received = incoming.blocks()) {
                assertThat(received.get(0).memory().get(ValueLayout.JAVA_LONG, RACE_OFFSET)).isEqualTo(RACE_VALUE);
                assertThat(received.get(0).memory().mismatch(blocks.get(0).memory())).isEqualTo(-1);
                assertThat(incoming.verified()).isTrue();
            }
        }
    }

    @Test
    void withoutAHoldTheSameWriteIsLostAndXVerifyRefusesTheMigration() throws Exception {
        try (RamBlocks blocks = populated();
                GatedApplication application = new GatedApplication(blocks.get(0), false);
                DestinationController destination = destination();
                SourceController source = source(blocks, application)) {
            AtomicInteger harvests = race(application, source);
            InetSocketAddress address = destination.listen(ANY);
            assertThatThrownBy(() -> source.migrate(uri(address)).blockLast(TIMEOUT))
                    .isInstanceOf(MigrationFailedException.class);

            assertThat(harvests.get()).as("harvests: a pre-copy one, the final one").isGreaterThanOrEqualTo(2);
            assertThat(application.writes()).as("writes asked for between a read and its clear").isEqualTo(1);
            assertThat(source.info().errorDesc()).isEqualTo("the destination refused the migration after the final "
                    + "round (with x-verify: its memory differs; see the destination's log)");
            assertThatThrownBy(() -> destination.completion().block(TIMEOUT))
                    .isInstanceOf(MigrationFailedException.class);
        }
    }

    /**
     * At the first harvest after the bulk round, between its read and its clear: the application writes a page, and
     * the migration may switch over from then on (until then its downtime limit of 0 lets no switchover fit).
     *
     * @return counts the harvests
     */
    private static AtomicInteger race(GatedApplication application, SourceController source) {
        AtomicInteger harvests = new AtomicInteger();
        SoftDirtyTracker.betweenReadAndClear = () -> {
            if (harvests.getAndIncrement() == 0) {
                application.writeDuringHarvest(RACE_OFFSET, RACE_VALUE);
                source.setParameters(parameters(300 * SCALE));
            }
        };
        return harvests;
    }

    /** 4 MiB of random bytes: every page exists before tracking starts. */
    private static RamBlocks populated() {
        RamBlocks blocks = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 4 * MIB)));
        SplittableRandom random = new SplittableRandom(19);
        for (long offset = 0; offset < blocks.totalBytes(); offset += 8) {
            blocks.get(0).memory().set(ValueLayout.JAVA_LONG, offset, random.nextLong());
        }
        return blocks;
    }

    private static MigrationParameters parameters(long downtimeLimit) {
        return MigrationParameters.DEFAULTS.withMaxBandwidth(0).withDowntimeLimit(downtimeLimit);
    }

    private DestinationController destination() {
        return DestinationController.builder().devices(devices).eventLoopGroup(group).memoryLimit(1L << 30)
                .timeout(TIMEOUT).build();
    }

    private SourceController source(RamBlocks blocks, Workload workload) {
        SourceController source = SourceController.builder(blocks).devices(devices).eventLoopGroup(group)
                .workload(workload).timeout(TIMEOUT).dirtyTracking(DirtyTrackingMode.SOFT_DIRTY).build();
        source.setCapability(MigrationCapability.X_VERIFY, true);
        source.setParameters(parameters(0));
        return source;
    }

    private static MigrationUri uri(InetSocketAddress address) {
        return new MigrationUri(address.getHostString(), address.getPort());
    }

    /**
     * An application that writes from its own thread, each write under a gate; a hold takes the gate, so a write
     * asked for during a hold waits for its release. Until the write asked for during the harvest, it also ticks (a
     * long every 200 us into one of the block's first 64 pages), so that the bulk round leaves pages to send and a
     * pre-copy harvest follows it. Never marks a page.
     */
    private static final class GatedApplication implements Workload, AutoCloseable {
        private static final long STOP = -1;

        private final RamBlock block;
        private final boolean canHold;
        private final WriteGate gate = new WriteGate();
        private final BlockingQueue<long[]> requests = new LinkedBlockingQueue<>();
        private final AtomicLong writes = new AtomicLong();
        private volatile boolean ticking = true;
        private final Thread writer;

        GatedApplication(RamBlock block, boolean canHold) {
            this.block = block;
            this.canHold = canHold;
            this.writer = Thread.ofPlatform().name("gated-application").daemon().start(this::run);
        }

        private void run() {
            try {
                for (long tick = 1; ; tick++) {
                    long[] request = requests.poll(200, TimeUnit.MICROSECONDS);
                    if (request == null) {
                        if (ticking) {
                            write((tick % 64) * RamBlock.PAGE_SIZE, tick);
                        }
                    } else if (request[0] == STOP) {
                        return;
                    } else {
                        write(request[0], request[1]);
                        writes.incrementAndGet();
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private void write(long offset, long value) {
            gate.enter();
            try {
                block.memory().set(ValueLayout.JAVA_LONG, offset, value);
            } finally {
                gate.exit();
            }
        }

        /** Asks for a write; returns once it is in memory, or once it waits for a hold's release. */
        void writeDuringHarvest(long offset, long value) {
            ticking = false;
            long before = writes.get();
            requests.add(new long[] {offset, value});
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (writes.get() == before && !gate.writerWaits()) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("the application neither wrote nor waited within " + TIMEOUT);
                }
                LockSupport.parkNanos(100_000);
            }
        }

        /** Writes asked for and done (ticks not counted). */
        long writes() {
            return writes.get();
        }

        @Override
        public Mono<Disposable> holdWrites() {
            return canHold ? gate.hold() : Mono.empty();
        }

        /** Every write asked for is done when the pause returns. */
        @Override
        public Mono<Void> pause() {
            return Mono.fromRunnable(this::close);
        }

        @Override
        public void close() {
            if (writer.isAlive()) {
                requests.add(new long[] {STOP, 0});
                try {
                    writer.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
