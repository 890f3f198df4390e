package io.livemig.migration.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.livemig.migration.destination.IncomingMigration;
import io.livemig.migration.params.MigrationCapability;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.ram.DirtyTracking;
import io.livemig.migration.ram.DirtyTrackingMode;
import io.livemig.migration.ram.RamBlock;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.status.MigrationInfo;
import io.livemig.migration.status.MigrationStatus;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import io.livemig.transport.rdma.channel.RdmaIoHandler;
import io.livemig.transport.rdma.verbs.soft.InJvmFabric;
import io.livemig.transport.rdma.verbs.soft.SoftVerbsProvider;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.publisher.Mono;

/**
 * A live migration over the soft provider's in-JVM fabric of an application that writes its RAM with plain
 * {@code MemorySegment} stores and never calls the dirty API: with the kernel tracking writes (uffd-wp on the build
 * machines, soft-dirty in the lab's Linux 6.1 guest: {@code scripts/rxe-lab.sh --dirty-tracking}) the destination
 * holds the source's bytes exactly at the pause; with explicit tracking the same application loses writes, which
 * x-verify reports.
 */
class TransparentDirtyTrackingTest {

    /**
     * {@code -Dlivemig.test.timeoutScale} (scripts/rxe-lab.sh: 5) scales the timeout and the downtime limit: in the
     * lab's emulated guest the completion exchange alone takes about 270 ms, so no switchover fits 300 ms.
     */
    private static final long SCALE = Long.getLong("livemig.test.timeoutScale", 1);
    private static final Duration TIMEOUT = Duration.ofSeconds(60).multipliedBy(SCALE);
    private static final long MIB = 1 << 20;
    private static final MigrationUri ANY = new MigrationUri("127.0.0.1", 0);

    private EventLoopGroup group;
    private InJvmFabric fabric;
    private RdmaDeviceFactory devices;

    @BeforeEach
    void start() {
        group = new MultiThreadIoEventLoopGroup(2, RdmaIoHandler.newFactory());
        fabric = new InJvmFabric();
        devices = () -> new SoftVerbsProvider().open(fabric);
    }

    @AfterEach
    void stop() throws InterruptedException {
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).await(20, TimeUnit.SECONDS);
        fabric.close();
    }

    private DestinationController destination() {
        return DestinationController.builder().devices(devices).eventLoopGroup(group).memoryLimit(1L << 30)
                .timeout(TIMEOUT).build();
    }

    private SourceController source(RamBlocks blocks, DirtyTrackingMode mode, StoringWorkload workload) {
        SourceController source = SourceController.builder(blocks).devices(devices).eventLoopGroup(group)
                .workload(workload).timeout(TIMEOUT).dirtyTracking(mode).build();
        source.setCapability(MigrationCapability.X_VERIFY, true);
        // 16 MiB at 64 MiB/s: a bulk round of about 250 ms while the application writes, then short rounds.
        source.setParameters(MigrationParameters.DEFAULTS.withMaxBandwidth(64 * MIB).withDowntimeLimit(300 * SCALE));
        return source;
    }

    private static MigrationUri uri(InetSocketAddress address) {
        return new MigrationUri(address.getHostString(), address.getPort());
    }

    @ParameterizedTest
    @EnumSource(names = {"UFFD_WP", "SOFT_DIRTY"})
    void plainStoresMigrateLiveByteForByteUnderKernelTracking(DirtyTrackingMode mode) throws Exception {
        assumeTrue(DirtyTracking.isAvailable(mode), () -> DirtyTracking.unavailabilityCause(mode).get());
        try (RamBlocks blocks = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 16 * MIB),
                        new BlockListEntry("vram", 4 * MIB)));
                DestinationController destination = destination();
                StoringWorkload workload = new StoringWorkload(blocks, 4000);
                SourceController source = source(blocks, mode, workload)) {
            InetSocketAddress address = destination.listen(ANY);
            List<MigrationInfo> progress;
            try {
                progress = source.migrate(uri(address)).collectList().block(TIMEOUT);
            } catch (MigrationFailedException e) {
                // x-verify's refusal names the first differing chunk only in the destination's failure.
                StringBuilder why = new StringBuilder(e.getMessage()).append("; the destination:");
                try {
                    destination.completion().block(TIMEOUT);
                } catch (RuntimeException d) {
                    for (Throwable t = d; t != null; t = t.getCause()) {
                        why.append(" ").append(t.getMessage());
                    }
                }
                throw new AssertionError(why.toString(), e);
            }

            MigrationInfo done = progress.getLast();
            assertThat(done.status()).isEqualTo(MigrationStatus.COMPLETED);
            assertThat(source.dirtyTracking()).isEqualTo("dirty tracking: " + mode.cliName() + " (requested)");
            assertThat(workload.pagesStoredBeforePause()).as("the application wrote while migrating").isPositive();
            // Rounds after the bulk one found pages to send, and only from the kernel: nothing was ever marked.
            assertThat(done.ram().dirtySyncCount()).isGreaterThanOrEqualTo(2);
            assertThat(blocks.get(0).dirtyBitmap().dirtyPages() + blocks.get(1).dirtyBitmap().dirtyPages()).isZero();
            IncomingMigration incoming = destination.completion().block(TIMEOUT);
            try (RamBlocks received = incoming.blocks()) {
                // Paused: the source holds exactly what it held at the pause, last stores included.
                for (int i = 0; i < blocks.size(); i++) {
                    assertThat(received.get(i).memory().mismatch(blocks.get(i).memory())).as(blocks.get(i).name())
                            .isEqualTo(-1);
                }
                assertThat(workload.lastStoresIn(received)).isTrue();
                assertThat(incoming.verified()).isTrue();
            }
        }
    }

    @Test
    void theSameStoresUnderExplicitTrackingAreLostAndXVerifyRefusesTheMigration() throws Exception {
        try (RamBlocks blocks = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 16 * MIB),
                        new BlockListEntry("vram", 4 * MIB)));
                DestinationController destination = destination();
                StoringWorkload workload = new StoringWorkload(blocks, 4000);
                SourceController source = source(blocks, DirtyTrackingMode.EXPLICIT, workload)) {
            InetSocketAddress address = destination.listen(ANY);
            assertThatThrownBy(() -> source.migrate(uri(address)).blockLast(TIMEOUT))
                    .isInstanceOf(MigrationFailedException.class);
            assertThat(source.dirtyTracking()).isEqualTo("dirty tracking: explicit (requested)");
            MigrationInfo failed = source.info();
            assertThat(failed.status()).isEqualTo(MigrationStatus.FAILED);
            assertThat(failed.errorDesc()).isEqualTo("the destination refused the migration after the final round "
                    + "(with x-verify: its memory differs; see the destination's log)");
            assertThat(workload.resumes()).as("the source runs on").isEqualTo(1);
            assertThatThrownBy(() -> destination.completion().block(TIMEOUT))
                    .isInstanceOf(MigrationFailedException.class);
        }
    }

    /**
     * Stores random longs into random pages of every block at a set rate, and on pause stamps one page of each
     * block: stores after every pre-copy round, which only the final round can carry. Holds its stores when asked
     * (soft-dirty's harvests). Never marks a page.
     */
    private static final class StoringWorkload implements Workload, AutoCloseable {
        private static final long STAMP = 0x5354414d50L;

        private final RamBlocks blocks;
        private final long pagesPerSecond;
        private final AtomicLong stored = new AtomicLong();
        private final WriteGate gate = new WriteGate();
        private volatile boolean running = true;
        private volatile int resumes;
        private final Thread thread;

        StoringWorkload(RamBlocks blocks, long pagesPerSecond) {
            this.blocks = blocks;
            this.pagesPerSecond = pagesPerSecond;
            this.thread = Thread.ofPlatform().name("storing-workload").daemon().start(this::run);
        }

        private void run() {
            SplittableRandom random = new SplittableRandom(19);
            double credit = 0;
            long last = System.nanoTime();
            while (running) {
                long now = System.nanoTime();
                credit += (now - last) / 1e9 * pagesPerSecond;
                last = now;
                gate.enter();
                try {
                    for (; credit >= 1 && running; credit--) {
                        RamBlock block = blocks.get(random.nextInt(blocks.size()));
                        long offset = random.nextLong(block.pages()) * RamBlock.PAGE_SIZE + random.nextInt(512) * 8L;
                        block.memory().set(ValueLayout.JAVA_LONG, offset, random.nextLong());
                        stored.incrementAndGet();
                    }
                } finally {
                    gate.exit();
                }
                LockSupport.parkNanos(1_000_000);
            }
        }

        @Override
        public Mono<Void> pause() {
            return Mono.fromRunnable(() -> {
                running = false;
                try {
                    thread.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                for (RamBlock block : blocks) {
                    block.memory().set(ValueLayout.JAVA_LONG, stampOffset(block), STAMP);
                }
            });
        }

        @Override
        public Mono<reactor.core.Disposable> holdWrites() {
            return gate.hold();
        }

        @Override
        public void resume() {
            resumes++;
        }

        int resumes() {
            return resumes;
        }

        long pagesStoredBeforePause() {
            return stored.get();
        }

        private static long stampOffset(RamBlock block) {
            return (block.pages() / 2) * RamBlock.PAGE_SIZE + 16;
        }

        boolean lastStoresIn(RamBlocks received) {
            for (RamBlock block : received) {
                MemorySegment memory = block.memory();
                if (memory.get(ValueLayout.JAVA_LONG, stampOffset(block)) != STAMP) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public void close() {
            running = false;
        }
    }
}
