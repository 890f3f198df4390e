package io.livemig.migration.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.livemig.migration.destination.IncomingMigration;
import io.livemig.migration.params.MigrationCapability;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.status.MigrationInfo;
import io.livemig.migration.status.MigrationStatus;
import io.livemig.migration.testing.DirtyingWorkload;
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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.Disposable;

/**
 * Live pre-copy through the public controllers over the soft provider's in-JVM fabric: convergence on
 * the downtime limit, auto-converge, endless iteration and cancellation, max-bandwidth, status.
 * Assertions are on outcomes and on byte counts, never on elapsed time alone.
 */
class LivePrecopyTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final long MIB = 1 << 20;

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

    private SourceController source(RamBlocks blocks, Workload workload) {
        return SourceController.builder(blocks).devices(devices).eventLoopGroup(group).workload(workload)
                .timeout(TIMEOUT).build();
    }

    private static MigrationUri uri(InetSocketAddress address) {
        return new MigrationUri(address.getHostString(), address.getPort());
    }

    private static final MigrationUri ANY = new MigrationUri("127.0.0.1", 0);

    @ParameterizedTest(name = "pinAll={0}")
    @ValueSource(booleans = {false, true})
    void aSlowDirtyRateConvergesWithinTheDowntimeLimit(boolean pinAll) throws Exception {
        try (RamBlocks blocks = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 32 * MIB)));
                DestinationController destination = destination();
                DirtyingWorkload workload = new DirtyingWorkload(blocks.get(0), 200);
                SourceController source = source(blocks, workload)) {
            fillRandom(blocks.get(0).memory(), 1);
            source.setCapability(MigrationCapability.RDMA_PIN_ALL, pinAll);
            source.setCapability(MigrationCapability.X_VERIFY, true);
            source.setParameters(MigrationParameters.DEFAULTS.withMaxBandwidth(256 * MIB).withDowntimeLimit(300));
            InetSocketAddress address = destination.listen(ANY);
            List<MigrationInfo> progress = source.migrate(uri(address)).collectList().block(TIMEOUT);

            MigrationInfo done = progress.getLast();
            assertThat(done.status()).isEqualTo(MigrationStatus.COMPLETED);
            // The last snapshot before the pause promised a downtime within the limit.
            MigrationInfo beforePause = progress.stream().filter(i -> i.status() == MigrationStatus.ACTIVE)
                    .reduce((a, b) -> b).orElseThrow();
            assertThat(beforePause.expectedDowntime()).isPresent();
            assertThat(beforePause.expectedDowntime().getAsLong()).isLessThanOrEqualTo(300);
            assertThat(done.downtime()).isPresent();
            assertThat(done.cpuThrottlePercentage()).isEmpty();
            assertThat(workload.pauses()).isEqualTo(1);
            assertThat(workload.resumes()).isZero();
            IncomingMigration incoming = destination.completion().block(TIMEOUT);
            try (RamBlocks received = incoming.blocks()) {
                // The workload is paused: the source now holds exactly what it held at the pause.
                assertThat(received.get(0).memory().mismatch(blocks.get(0).memory())).isEqualTo(-1);
                assertThat(incoming.verified()).isTrue();
            }
        }
    }

    @Test
    void autoConvergeThrottlesAWorkloadThatOutrunsTheLinkUntilItCompletes() throws Exception {
        try (RamBlocks blocks = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 8 * MIB)));
                DestinationController destination = destination();
                // 12 MiB/s of random page writes against an 8 MiB/s link: without a throttle it never converges.
                DirtyingWorkload workload = new DirtyingWorkload(blocks.get(0), 3072);
                SourceController source = source(blocks, workload)) {
            source.setCapability(MigrationCapability.AUTO_CONVERGE, true);
            source.setParameters(MigrationParameters.DEFAULTS.withMaxBandwidth(8 * MIB));
            InetSocketAddress address = destination.listen(ANY);
            List<MigrationInfo> progress = source.migrate(uri(address)).collectList().block(TIMEOUT.multipliedBy(2));

            assertThat(progress.getLast().status()).isEqualTo(MigrationStatus.COMPLETED);
            List<Long> throttles = progress.stream().filter(i -> i.cpuThrottlePercentage().isPresent())
                    .map(i -> i.cpuThrottlePercentage().getAsLong()).distinct().toList();
            // QEMU's steps: 20 first, then +10 each time, up to 99.
            assertThat(throttles).isNotEmpty().startsWith(20L);
            for (int i = 1; i < throttles.size(); i++) {
                assertThat(throttles.get(i)).isEqualTo(Math.min(throttles.get(i - 1) + 10, 99));
            }
            // The throttle is lifted once the migration ends.
            assertThat(workload.throttle()).isZero();
            try (RamBlocks received = destination.completion().block(TIMEOUT).blocks()) {
                assertThat(received.get(0).memory().mismatch(blocks.get(0).memory())).isEqualTo(-1);
            }
        }
    }

    @Test
    void withoutAutoConvergeItIteratesUntilCancelledAndTheSourceRunsOnIntact() throws Exception {
        try (RamBlocks blocks = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 16 * MIB)));
                DestinationController destination = destination();
                DirtyingWorkload workload = new DirtyingWorkload(blocks.get(0), 6144);
                SourceController source = source(blocks, workload)) {
            source.setParameters(MigrationParameters.DEFAULTS.withMaxBandwidth(16 * MIB).withDowntimeLimit(50));
            InetSocketAddress address = destination.listen(ANY);
            List<MigrationInfo> seen = new CopyOnWriteArrayList<>();
            Disposable migration = source.migrate(uri(address)).subscribe(info -> {
                seen.add(info);
                if (info.ram() != null && info.ram().dirtySyncCount() >= 6) {
                    source.cancel();
                }
            }, error -> { });
            MigrationInfo last = source.statusChanges().filter(i -> i.status().isFinished()).blockFirst(TIMEOUT);
            assertThat(last.status()).isEqualTo(MigrationStatus.CANCELLED);
            assertThat(last.errorDesc()).isNull();
            assertThat(seen).extracting(MigrationInfo::status).contains(MigrationStatus.CANCELLING)
                    .doesNotContain(MigrationStatus.PRE_SWITCHOVER, MigrationStatus.DEVICE);
            // Never paused, never throttled; still writing.
            assertThat(workload.pauses()).isZero();
            assertThat(workload.throttle()).isZero();
            assertThat(workload.isRunning()).isTrue();
            long written = workload.pagesWritten();
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (workload.pagesWritten() == written && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertThat(workload.pagesWritten()).as("the workload keeps writing").isGreaterThan(written);
            assertThat(source.info().status()).isEqualTo(MigrationStatus.CANCELLED);
            assertThatThrownBy(() -> destination.completion().block(TIMEOUT))
                    .isInstanceOf(MigrationFailedException.class).hasMessageContaining("peer sent ERROR");
            migration.dispose();

            // A later migration from the same source completes.
            try (DestinationController second = destination()) {
                InetSocketAddress again = second.listen(ANY);
                source.setParameters(source.parameters().withDowntimeLimit(60_000));
                MigrationInfo done = source.migrate(uri(again)).blockLast(TIMEOUT);
                assertThat(done.status()).isEqualTo(MigrationStatus.COMPLETED);
                try (RamBlocks received = second.completion().block(TIMEOUT).blocks()) {
                    assertThat(received.get(0).memory().mismatch(blocks.get(0).memory())).isEqualTo(-1);
                }
            }
        }
    }

    @Test
    void maxBandwidthCapsEveryByteSentIncludingAfterAMidMigrationChange() throws Exception {
        long cap = 8 * MIB;
        try (RamBlocks blocks = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 40 * MIB)));
                DestinationController destination = destination();
                SourceController source = source(blocks, new Workload() { })) {
            fillRandom(blocks.get(0).memory(), 3);
            source.setParameters(MigrationParameters.DEFAULTS.withMaxBandwidth(cap));
            InetSocketAddress address = destination.listen(ANY);
            long started = System.nanoTime();
            Disposable migration = source.migrate(uri(address)).subscribe(info -> { }, error -> { });
            // Sample the bytes sent against what the cap allows since the start (which is before the limiter's
            // own start, so the bound is generous), allowing one chunk in flight plus control overhead.
            long slack = MIB + 256 * 1024;
            long changedAt = -1;
            double allowedBeforeChange = 0;
            while (!source.info().status().isFinished()) {
                long now = System.nanoTime();
                double seconds = (now - started) / 1e9;
                double allowed = changedAt < 0 ? cap * seconds
                        : allowedBeforeChange + 2.0 * cap * (now - changedAt) / 1e9;
                MigrationInfo info = source.info();
                assertThat(info.ram() == null ? 0 : info.ram().transferred()).as("bytes sent after %.2f s", seconds)
                        .isLessThanOrEqualTo((long) allowed + slack);
                if (changedAt < 0 && seconds >= 1.5) {
                    allowedBeforeChange = cap * seconds;
                    changedAt = System.nanoTime();
                    source.setParameters(source.parameters().withMaxBandwidth(2 * cap));
                }
                Thread.sleep(20);
            }
            migration.dispose();
            MigrationInfo done = source.info();
            assertThat(done.status()).isEqualTo(MigrationStatus.COMPLETED);
            // It did use the bandwidth it had: 40 MiB at 8 then 16 MiB/s takes over 2.5 s.
            assertThat(done.totalTime().getAsLong()).isGreaterThanOrEqualTo(2500);
            destination.completion().block(TIMEOUT).blocks().close();
        }
    }

    @Test
    void migrateWhileActiveAndSetCapabilityWhileActiveAreRefusedWithQemusMessage() throws Exception {
        try (RamBlocks blocks = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 8 * MIB)));
                DestinationController destination = destination();
                SourceController source = source(blocks, new Workload() { })) {
            source.setParameters(MigrationParameters.DEFAULTS.withMaxBandwidth(4 * MIB));
            InetSocketAddress address = destination.listen(ANY);
            source.start(uri(address));
            assertThatThrownBy(() -> source.start(uri(address))).isInstanceOf(IllegalStateException.class)
                    .hasMessage("There's a migration process in progress");
            assertThatThrownBy(() -> source.setCapability(MigrationCapability.RDMA_PIN_ALL, true))
                    .isInstanceOf(IllegalStateException.class).hasMessage("There's a migration process in progress");
            assertThatThrownBy(() -> source.migrate(uri(address)).blockLast(TIMEOUT))
                    .isInstanceOf(IllegalStateException.class).hasMessage("There's a migration process in progress");
            assertThatThrownBy(() -> destination.listen(ANY)).isInstanceOf(IllegalStateException.class)
                    .hasMessage("The incoming migration has already been started");
            source.setParameters(source.parameters().withMaxBandwidth(0));
            MigrationInfo end = source.statusChanges().filter(i -> i.status().isFinished()).blockFirst(TIMEOUT);
            assertThat(end.status()).isEqualTo(MigrationStatus.COMPLETED);
            destination.completion().block(TIMEOUT).blocks().close();
        }
    }

    @Test
    void aFailedConnectLeavesTheSourceReadyForTheNextMigration() throws Exception {
        try (RamBlocks blocks = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", MIB)));
                SourceController source = source(blocks, new Workload() { })) {
            assertThatThrownBy(() -> source.migrate(new MigrationUri("127.0.0.1", 1)).blockLast(TIMEOUT))
                    .isInstanceOf(MigrationFailedException.class);
            MigrationInfo failed = source.info();
            assertThat(failed.status()).isEqualTo(MigrationStatus.FAILED);
            assertThat(failed.errorDesc()).isEqualTo("nothing is listening on 127.0.0.1:1 (is the destination running?)");
            assertThat(failed.toQmpJson()).contains("\"status\": \"failed\"").contains("\"error-desc\": ");
        }
    }

    @Test
    void theRecorderSeesWhatTheEngineCounts() throws Exception {
        CountingRecorder recorder = new CountingRecorder();
        try (RamBlocks blocks = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 6 * MIB),
                new BlockListEntry("zeros", 3 * MIB)));
                DestinationController destination = DestinationController.builder().devices(devices)
                        .eventLoopGroup(group).timeout(TIMEOUT).recorder(recorder).build();
                SourceController source = SourceController.builder(blocks).devices(devices).eventLoopGroup(group)
                        .timeout(TIMEOUT).recorder(recorder).build()) {
            fillRandom(blocks.get(0).memory(), 4);
            source.setParameters(MigrationParameters.DEFAULTS.withMaxBandwidth(0));
            InetSocketAddress address = destination.listen(ANY);
            MigrationInfo done = source.migrate(uri(address)).blockLast(TIMEOUT);
            destination.completion().block(TIMEOUT).blocks().close();

            assertThat(recorder.writtenBytes.get()).isEqualTo(done.ram().normalBytes());
            assertThat(recorder.compressedBytes.get()).isEqualTo(done.ram().duplicate() * 4096 * 2); // both sides
            // Six chunks of random data were registered, each once, at both ends.
            assertThat(recorder.registeredChunks.get()).isEqualTo(2 * 6);
            assertThat(recorder.pinned.get()).as("pinned bytes after both ends released").isZero();
            assertThat(recorder.outcomes).containsExactlyInAnyOrder("source:completed", "destination:completed");
        }
    }

    @Test
    void aSubscriberThatReadsOnlyAtTheEndStillSeesEveryStatusChangeInOrder() throws Exception {
        try (RamBlocks blocks = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 8 * MIB)));
                DestinationController destination = destination();
                SourceController source = source(blocks, new Workload() { })) {
            fillRandom(blocks.get(0).memory(), 5);
            source.setParameters(MigrationParameters.DEFAULTS.withMaxBandwidth(32 * MIB));
            InetSocketAddress address = destination.listen(ANY);
            List<MigrationInfo> seen = new CopyOnWriteArrayList<>();
            java.util.concurrent.CountDownLatch ended = new java.util.concurrent.CountDownLatch(1);
            // No demand at all until the migration is over: only then does the subscriber read.
            reactor.core.publisher.BaseSubscriber<MigrationInfo> slow = new reactor.core.publisher.BaseSubscriber<>() {
                @Override
                protected void hookOnSubscribe(org.reactivestreams.Subscription subscription) {
                }

                @Override
                protected void hookFinally(reactor.core.publisher.SignalType type) {
                    ended.countDown();
                }

                @Override
                protected void hookOnNext(MigrationInfo info) {
                    seen.add(info);
                }
            };
            source.migrate(uri(address)).subscribe(slow);
            destination.completion().block(TIMEOUT).blocks().close();
            source.statusChanges().startWith(source.info()).filter(i -> i.status().isFinished()).blockFirst(TIMEOUT);
            slow.request(Long.MAX_VALUE);

            List<MigrationStatus> statuses = seen.stream().map(MigrationInfo::status).distinct().toList();
            assertThat(statuses).containsExactly(MigrationStatus.SETUP, MigrationStatus.ACTIVE, MigrationStatus.DEVICE,
                    MigrationStatus.COMPLETED);
            // Progress snapshots within one status were conflated: at most two per status were kept waiting.
            assertThat(seen).hasSizeLessThanOrEqualTo(2 * statuses.size());
            // The Flux completes just after the COMPLETED snapshot is published (the status listener that
            // released the wait above runs first): wait for the signal rather than race it.
            assertThat(ended.await(TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)).isTrue();
            assertThat(slow.isDisposed()).isTrue();
        }
    }

    @Test
    void liveStatisticsMoveDuringTheBulkRoundAndTheCompletionThroughputIsQemus() throws Exception {
        try (RamBlocks blocks = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 16 * MIB)));
                DestinationController destination = destination();
                SourceController source = source(blocks, new Workload() { })) {
            fillRandom(blocks.get(0).memory(), 6);
            // 16 MiB at 16 MiB/s: the bulk round takes about a second, several live samples long.
            source.setParameters(MigrationParameters.DEFAULTS.withMaxBandwidth(16 * MIB));
            InetSocketAddress address = destination.listen(ANY);
            List<MigrationInfo> progress = source.migrate(uri(address)).collectList().block(TIMEOUT);
            destination.completion().block(TIMEOUT).blocks().close();

            // Before the first round ended (no expected downtime yet), the rates and the remainder moved.
            List<MigrationInfo> bulk = progress.stream().filter(i -> i.status() == MigrationStatus.ACTIVE
                    && i.expectedDowntime().isEmpty() && i.ram().mbps() > 0).toList();
            assertThat(bulk).hasSizeGreaterThanOrEqualTo(2);
            assertThat(bulk).allSatisfy(i -> assertThat(i.ram().pagesPerSecond()).isPositive());
            assertThat(bulk.getFirst().ram().remaining()).isGreaterThan(bulk.getLast().ram().remaining());
            // QEMU's completion figure: transferred bytes over the total time less the setup time.
            MigrationInfo done = progress.getLast();
            assertThat(done.status()).isEqualTo(MigrationStatus.COMPLETED);
            double expected = done.ram().transferred() * 8.0
                    / (done.totalTime().getAsLong() - done.setupTime().getAsLong()) / 1000.0;
            assertThat(done.ram().mbps()).isCloseTo(expected, org.assertj.core.data.Percentage.withPercentage(2));
        }
    }

    @Test
    void pauseBeforeSwitchoverStopsInPreSwitchoverUntilContinuedAndOnlyWithTheCapability() throws Exception {
        try (RamBlocks blocks = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 4 * MIB)));
                DestinationController destination = destination();
                DirtyingWorkload workload = new DirtyingWorkload(blocks.get(0), 100);
                SourceController source = source(blocks, workload)) {
            source.setCapability(MigrationCapability.PAUSE_BEFORE_SWITCHOVER, true);
            source.setParameters(MigrationParameters.DEFAULTS.withMaxBandwidth(0).withDowntimeLimit(60_000));
            InetSocketAddress address = destination.listen(ANY);
            reactor.core.publisher.Mono<MigrationInfo> preSwitchover = source.statusChanges()
                    .filter(i -> i.status() == MigrationStatus.PRE_SWITCHOVER).next().cache();
            preSwitchover.subscribe();
            source.start(uri(address));
            MigrationInfo stopped = preSwitchover.block(TIMEOUT);
            assertThat(stopped.status()).isEqualTo(MigrationStatus.PRE_SWITCHOVER);
            // The application is already paused (QEMU stops the VM before pre-switchover) and stays so.
            assertThat(workload.pauses()).isEqualTo(1);
            assertThat(source.info().status()).isEqualTo(MigrationStatus.PRE_SWITCHOVER);
            assertThatThrownBy(() -> source.continueMigration(MigrationStatus.ACTIVE))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("Migration not in expected state: pre-switchover");
            source.continueMigration(MigrationStatus.PRE_SWITCHOVER);
            MigrationInfo end = source.statusChanges().startWith(source.info())
                    .filter(i -> i.status().isFinished()).blockFirst(TIMEOUT);
            assertThat(end.status()).isEqualTo(MigrationStatus.COMPLETED);
            try (RamBlocks received = destination.completion().block(TIMEOUT).blocks()) {
                assertThat(received.get(0).memory().mismatch(blocks.get(0).memory())).isEqualTo(-1);
            }
            assertThatThrownBy(() -> source.continueMigration(MigrationStatus.PRE_SWITCHOVER))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("Migration not in expected state: completed");
        }
    }

    @Test
    void aSourceAndADestinationShareOneRuntimeThatOutlivesThem() throws Exception {
        try (MigrationRuntime runtime = MigrationRuntime.builder().devices(devices).eventLoopGroup(group)
                .timeout(TIMEOUT).build();
                RamBlocks blocks = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 4 * MIB)))) {
            fillRandom(blocks.get(0).memory(), 8);
            for (int round = 0; round < 2; round++) {
                try (DestinationController destination = DestinationController.builder().runtime(runtime)
                        .memoryLimit(1L << 30).build();
                        SourceController source = SourceController.builder(blocks).runtime(runtime).build()) {
                    assertThat(source.runtime()).isSameAs(runtime).isSameAs(destination.runtime());
                    source.setParameters(MigrationParameters.DEFAULTS.withMaxBandwidth(0));
                    InetSocketAddress address = destination.listen(ANY);
                    assertThat(source.migrate(uri(address)).blockLast(TIMEOUT).status())
                            .isEqualTo(MigrationStatus.COMPLETED);
                    try (RamBlocks received = destination.completion().block(TIMEOUT).blocks()) {
                        assertThat(received.get(0).memory().mismatch(blocks.get(0).memory())).isEqualTo(-1);
                    }
                }
                // Closing the controllers left the shared runtime's loops running for the next pair.
                assertThat(group.isShuttingDown()).isFalse();
            }
            runtime.close();
            runtime.close();
            assertThat(group.isShuttingDown()).as("a lent group is not the runtime's to stop").isFalse();
        }
    }

    /** Sums what the engine reports. */
    private static final class CountingRecorder implements io.livemig.migration.observe.MigrationRecorder {
        final java.util.concurrent.atomic.AtomicLong writtenBytes = new java.util.concurrent.atomic.AtomicLong();
        final java.util.concurrent.atomic.AtomicLong compressedBytes = new java.util.concurrent.atomic.AtomicLong();
        final java.util.concurrent.atomic.AtomicLong registeredChunks = new java.util.concurrent.atomic.AtomicLong();
        final java.util.concurrent.atomic.AtomicLong pinned = new java.util.concurrent.atomic.AtomicLong();
        final List<String> outcomes = new CopyOnWriteArrayList<>();

        @Override
        public void rdmaWritePosted(long bytes) {
            writtenBytes.addAndGet(bytes);
        }

        @Override
        public void compressed(Side side, long bytes) {
            compressedBytes.addAndGet(bytes);
        }

        @Override
        public void registration(Side side, int chunks, long nanos) {
            registeredChunks.addAndGet(chunks);
        }

        @Override
        public void pinnedBytes(Side side, long deltaBytes) {
            pinned.addAndGet(deltaBytes);
        }

        @Override
        public void migrationEnded(Side side, Outcome outcome, long totalNanos, long downtimeNanos) {
            outcomes.add(side.tag() + ":" + outcome.tag());
        }
    }

    private static void fillRandom(MemorySegment memory, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        for (long offset = 0; offset < memory.byteSize(); offset += 8) {
            memory.set(ValueLayout.JAVA_LONG_UNALIGNED, offset, random.nextLong());
        }
    }
}
