package io.livemig.migration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.livemig.migration.control.DestinationControl;
import io.livemig.migration.control.LocalControlPlane;
import io.livemig.migration.control.SourceControl;
import io.livemig.migration.destination.IncomingMigration;
import io.livemig.migration.destination.MigrationDestination;
import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.ram.RamBlock;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.ram.RamLimitExceededException;
import io.livemig.migration.source.RoundStats;
import io.livemig.migration.api.SourcePipeline;
import io.livemig.migration.api.Workload;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.source.SourceOptions;
import io.livemig.migration.status.MigrationTracker;
import io.livemig.migration.testing.PlacingDataPath;
import io.livemig.migration.testing.TestSources;
import io.netty.channel.Channel;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Whole migrations through the engine: source and destination on two threads, the control channel over
 * Netty's asynchronous local transport, RDMA WRITEs through a data path with RC's placement rules, and a
 * workload that keeps writing while the migration runs. The destination must end up byte for byte equal
 * to the source at the moment of the pause.
 */
class MigrationOverLocalChannelTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final long MIB = 1 << 20;

    private LocalControlPlane plane;
    private final List<String> transcript = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    /** The {@code chunks} field of every REGISTER REQUEST record the destination received. */
    private final List<Long> registerChunks = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    /** When set, the destination answers REGISTER REQUESTs as QEMU does (len = 16 whatever the repeat). */
    private final AtomicBoolean qemuDestination = new AtomicBoolean();

    @BeforeEach
    void start() throws InterruptedException {
        plane = new LocalControlPlane("migration-test", () -> List.of(new Transcript(transcript, registerChunks),
                new QemuRegisterResultQuirk(qemuDestination)));
    }

    @AfterEach
    void stop() throws InterruptedException {
        plane.close();
    }

    @ParameterizedTest(name = "pinAll={0}")
    @ValueSource(booleans = {false, true})
    void liveMigrationLeavesTheDestinationEqualToTheSourceAtThePause(boolean pinAll) throws Exception {
        try (RamBlocks source = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 9 * MIB),
                new BlockListEntry("zeros", 2 * MIB), new BlockListEntry("odd", MIB + 20 * 4096)))) {
            fillRandom(source.get(0).memory(), 1);
            fillRandom(source.get(2).memory(), 2);
            SourceControl sourceControl = new SourceControl();
            Channel channel = connect(sourceControl);
            DestinationControl destinationControl = plane.accepted();
            PlacingDataPath fabric = new PlacingDataPath();

            CompletableFuture<IncomingMigration> incoming = receive(destinationControl, fabric, pinAll, 64 * MIB);

            // The workload: rewrites random pages of pc.ram (write, then mark) while the first three rounds run,
            // then stops writing, so the migration converges in a bounded number of rounds on any machine (a
            // writer that never stops converges only when the scheduler happens to starve it for a whole round).
            AtomicBoolean paused = new AtomicBoolean();
            AtomicInteger roundsDone = new AtomicInteger();
            Thread workload = Thread.ofPlatform().name("workload").start(() -> {
                SplittableRandom random = new SplittableRandom(3);
                RamBlock ram = source.get(0);
                while (!paused.get()) {
                    if (roundsDone.get() < 3) {
                        ram.putLong(random.nextLong(ram.usedLength() / 8) * 8, random.nextLong());
                        Thread.onSpinWait();
                    } else {
                        LockSupport.parkNanos(100_000);
                    }
                }
            });
            Runnable pause = () -> {
                paused.set(true);
                try {
                    workload.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            };
            // Converges once 16 pages or fewer are dirty after a round (16 × 4 KiB within 1 ms at 64 MiB/s).
            MigrationParameters parameters = TestSources.FAST.withDowntimeLimit(1).withAvailSwitchoverBandwidth(64 << 20);
            List<RoundStats> rounds = TestSources.run(sourceControl, fabric, source,
                    TestSources.options(pinAll, () -> parameters, TIMEOUT), TestSources.workload(pause, new byte[] {1, 2, 3}),
                    new SourcePipeline.Events() {
                        @Override
                        public void round() {
                            roundsDone.incrementAndGet();
                        }
                    });

            IncomingMigration result = incoming.get(60, TimeUnit.SECONDS);
            try (RamBlocks destination = result.blocks()) {
                assertThat(destination.blockList()).isEqualTo(source.blockList());
                for (int i = 0; i < source.size(); i++) {
                    assertThat(destination.get(i).memory().mismatch(source.get(i).memory()))
                            .as("first differing byte of block %s", source.get(i).name()).isEqualTo(-1);
                }
                assertThat(result.state()).containsOnlyKeys(SourcePipeline.STATE_SECTION);
                assertThat(result.state().get(SourcePipeline.STATE_SECTION)).containsExactly(1, 2, 3);
            }
            // Setup has no writes; the bulk round, further rounds while the workload dirties faster than the limit
            // allows (how many depends on the machine), the final round.
            assertThat(rounds.size()).isGreaterThanOrEqualTo(2);
            RoundStats bulk = rounds.getFirst();
            if (pinAll) {
                assertThat(bulk.duplicatePages()).isZero();
                assertThat(bulk.normalPages()).isEqualTo(source.totalBytes() / 4096);
            } else {
                assertThat(bulk.duplicatePages()).isEqualTo(2 * MIB / 4096);
                assertThat(result.zeroPages()).isEqualTo(2 * MIB / 4096);
            }
            assertThat(fabric.chunkOverlap.get()).isZero();
            channel.close().sync();
        }
    }

    @ParameterizedTest(name = "pinAll={0}")
    @ValueSource(booleans = {false})
    void aDestinationOverItsMemoryLimitFailsBothEndsCleanly(boolean pinAll) throws Exception {
        try (RamBlocks source = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 4 * MIB)))) {
            fillRandom(source.get(0).memory(), 4);
            MemorySegment before = MemorySegment.ofArray(source.get(0).memory().toArray(ValueLayout.JAVA_BYTE));
            SourceControl sourceControl = new SourceControl();
            Channel channel = connect(sourceControl);
            DestinationControl destinationControl = plane.accepted();
            PlacingDataPath fabric = new PlacingDataPath();
            CompletableFuture<IncomingMigration> incoming = receive(destinationControl, fabric, pinAll, 2 * MIB);
            assertThatThrownBy(() -> TestSources.run(sourceControl, fabric, source,
                    TestSources.options(pinAll, () -> TestSources.FAST, TIMEOUT), new Workload() { }))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("peer sent ERROR");
            assertThatThrownBy(() -> incoming.get(30, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(RamLimitExceededException.class)
                    .hasMessage("the source announces 1 RAM block of 4194304 bytes in total, above this"
                            + " destination's memory limit of 2097152 bytes");
            // The source's memory is untouched, and it never sent ERROR back (it received one).
            assertThat(source.get(0).memory().mismatch(before)).isEqualTo(-1);
            assertThat(sourceControl.receivedError()).isTrue();
            channel.close().sync();
        }
    }

    @ParameterizedTest(name = "pinAll={0}")
    @ValueSource(booleans = {false})
    void cancellingTheProgressFluxSendsErrorAndLeavesTheSourceIntact(boolean pinAll) throws Exception {
        try (RamBlocks source = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 4 * MIB)))) {
            fillRandom(source.get(0).memory(), 6);
            SourceControl sourceControl = new SourceControl();
            Channel channel = connect(sourceControl);
            DestinationControl destinationControl = plane.accepted();
            PlacingDataPath fabric = new PlacingDataPath();
            CompletableFuture<IncomingMigration> incoming = receive(destinationControl, fabric, pinAll, 64 * MIB);
            // A workload that never lets the migration converge: it rewrites a whole chunk every round.
            AtomicBoolean stop = new AtomicBoolean();
            Thread workload = Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    source.get(0).fill(0, MIB, (byte) 1);
                }
            });
            try {
                // Cancel (dispose the pipeline's subscription) as soon as the first round has been reported.
                MigrationTracker tracker = new MigrationTracker();
                tracker.start(source.totalBytes());
                MigrationParameters neverConverges = TestSources.FAST.withDowntimeLimit(0);
                SourcePipeline migration = new SourcePipeline(sourceControl, fabric, source,
                        TestSources.options(pinAll, () -> neverConverges, TIMEOUT));
                reactor.core.publisher.BaseSubscriber<List<RoundStats>> subscriber =
                        new reactor.core.publisher.BaseSubscriber<>() { };
                CompletableFuture<Integer> postedAtCancel = new CompletableFuture<>();
                migration.run(new Workload() { }, tracker, new SourcePipeline.Events() {
                    @Override
                    public void round() {
                        subscriber.dispose();
                        postedAtCancel.complete(fabric.posted.get());
                    }
                }).subscribe(subscriber);
                int posted = postedAtCancel.get(30, TimeUnit.SECONDS);
                migration.cancel(new java.util.concurrent.CancellationException("migration cancelled"),
                        reactor.core.publisher.Mono.empty()).block(TIMEOUT);
                assertThat(fabric.posted.get()).as("writes posted after the cancel").isEqualTo(posted);
                assertThat(migration.writesInFlight()).isZero();
                assertThat(tracker.snapshot().ram().normal()).isEqualTo(4 * MIB / 4096);
                assertThatThrownBy(() -> incoming.get(30, TimeUnit.SECONDS))
                        .isInstanceOf(ExecutionException.class)
                        .cause().hasMessageContaining("peer sent ERROR");
            } finally {
                stop.set(true);
                workload.join();
            }
            assertThat(sourceControl.failure()).hasMessage("migration cancelled");
            assertThat(source.get(0).memory().get(ValueLayout.JAVA_BYTE, 0)).isEqualTo((byte) 1);
            channel.close().sync();
        }
    }

    /**
     * The exact control-message sequence of a small two-block migration (one random block of two chunks,
     * one zero block), without a workload: setup, bulk round, final round. Compare spec section 9.2.
     */
    @ParameterizedTest(name = "pinAll={0}")
    @ValueSource(booleans = {false, true})
    void transcriptOfATwoBlockMigrationFollowsSection92(boolean pinAll) throws Exception {
        try (RamBlocks source = RamBlocks.allocate(List.of(new BlockListEntry("a", 2 * MIB),
                new BlockListEntry("b", MIB)))) {
            fillRandom(source.get(0).memory(), 5);
            SourceControl sourceControl = new SourceControl();
            Channel channel = connect(sourceControl);
            DestinationControl destinationControl = plane.accepted();
            PlacingDataPath fabric = new PlacingDataPath();
            CompletableFuture<IncomingMigration> incoming = receive(destinationControl, fabric, pinAll, 64 * MIB);
            TestSources.run(sourceControl, fabric, source, qemuSequence(pinAll), TestSources.workload(() -> { },
                    new byte[] {7}));
            incoming.get(30, TimeUnit.SECONDS).blocks().close();
            channel.close().sync();

            List<String> expected = new java.util.ArrayList<>(List.of(
                    "dst->src READY len=0 repeat=1", "src->dst QEMU FILE",
                    "dst->src READY len=0 repeat=1", "src->dst RAM BLOCKS REQUEST len=0 repeat=1",
                    "dst->src RAM BLOCKS RESULT len=64 repeat=1",
                    "dst->src READY len=0 repeat=1", "src->dst REGISTER FINISHED len=0 repeat=1",
                    "dst->src READY len=0 repeat=1", "src->dst QEMU FILE"));
            if (!pinAll) {
                for (int chunk = 0; chunk < 2; chunk++) {
                    expected.addAll(List.of("dst->src READY len=0 repeat=1",
                            "src->dst REGISTER REQUEST len=24 repeat=1", "dst->src REGISTER RESULT len=16 repeat=1"));
                }
                expected.addAll(List.of("dst->src READY len=0 repeat=1", "src->dst COMPRESS len=24 repeat=1"));
            }
            expected.addAll(List.of(
                    "dst->src READY len=0 repeat=1", "src->dst REGISTER FINISHED len=0 repeat=1",
                    "dst->src READY len=0 repeat=1", "src->dst QEMU FILE",
                    "dst->src READY len=0 repeat=1", "src->dst REGISTER FINISHED len=0 repeat=1",
                    "dst->src READY len=0 repeat=1", "src->dst QEMU FILE"));
            assertThat(transcript).containsExactlyElementsOf(expected);
        }
    }

    /**
     * Towards a destination that cleared the livemig capability (QEMU's), x-verify and batching are dropped even
     * when asked for: one chunk per REGISTER REQUEST ({@code repeat 1}, {@code chunks 0}), and the stream carries
     * no livemig section (no checksums, no application state).
     */
    @Test
    void aSourceWhoseDestinationClearedTheLivemigBitSendsQemusSequenceAndNoLivemigSections() throws Exception {
        try (RamBlocks source = RamBlocks.allocate(List.of(new BlockListEntry("ram0", 3 * MIB)))) {
            fillRandom(source.get(0).memory(), 11);
            SourceOptions options = qemuSequence(false);
            assertThat(options.verify()).isFalse();
            assertThat(options.registrationBatch()).isEqualTo(1);
            SourceControl sourceControl = new SourceControl();
            Channel channel = connect(sourceControl);
            DestinationControl destinationControl = plane.accepted();
            PlacingDataPath fabric = new PlacingDataPath();
            CompletableFuture<IncomingMigration> incoming = receive(destinationControl, fabric, false, 64 * MIB);
            TestSources.run(sourceControl, fabric, source, options, TestSources.workload(() -> { }, new byte[] {7}));
            IncomingMigration received = incoming.get(30, TimeUnit.SECONDS);
            try (RamBlocks blocks = received.blocks()) {
                assertThat(blocks.get(0).memory().mismatch(source.get(0).memory())).isEqualTo(-1);
            }
            assertThat(received.state()).isEmpty();
            assertThat(received.verified()).isFalse();
            channel.close().sync();
            assertThat(transcript.stream().filter(line -> line.contains("REGISTER R")).toList()).containsExactly(
                    "src->dst REGISTER REQUEST len=24 repeat=1", "dst->src REGISTER RESULT len=16 repeat=1",
                    "src->dst REGISTER REQUEST len=24 repeat=1", "dst->src REGISTER RESULT len=16 repeat=1",
                    "src->dst REGISTER REQUEST len=24 repeat=1", "dst->src REGISTER RESULT len=16 repeat=1");
            assertThat(registerChunks).containsExactly(0L, 0L, 0L);
        }
    }

    @Test
    void livemigOnlyAdditionsAreRefusedForADestinationThatIsNotLivemig() {
        SourceOptions o = TestSources.options(false, () -> TestSources.FAST, TIMEOUT);
        assertThatThrownBy(() -> new SourceOptions(false, o.allocator(), o.timeout(), 16, o.parameters(), false, false,
                o.timer(), o.recorder(), 2, false)).isInstanceOf(IllegalArgumentException.class).hasMessage(
                "x-verify and registration batches need a livemig destination; this one did not echo the livemig "
                        + "capability (verify=false, registrationBatch=2)");
    }

    /**
     * QEMU's destination puts {@code len = 16} in every REGISTER RESULT header and sends header plus len
     * bytes, so a result to a multi-record request carries only the first record (spec section 3.2).
     */
    private static final class QemuRegisterResultQuirk extends io.netty.channel.ChannelOutboundHandlerAdapter {
        private final AtomicBoolean enabled;

        QemuRegisterResultQuirk(AtomicBoolean enabled) {
            this.enabled = enabled;
        }

        @Override
        public void write(io.netty.channel.ChannelHandlerContext ctx, Object msg,
                io.netty.channel.ChannelPromise promise) {
            io.netty.buffer.ByteBuf send = (io.netty.buffer.ByteBuf) msg;
            if (enabled.get() && send.getInt(4) == io.livemig.migration.protocol.ControlType.REGISTER_RESULT.value()) {
                send.setInt(0, 16);
                send.writerIndex(send.readerIndex() + 16 + 16);
            }
            ctx.write(msg, promise);
        }
    }

    @ParameterizedTest(name = "QEMU destination={0}")
    @ValueSource(booleans = {false, true})
    void registrationsAreBatchedAndFallBackToOneChunkPerRequestForAQemuDestination(boolean qemu) throws Exception {
        qemuDestination.set(qemu);
        try (RamBlocks source = RamBlocks.allocate(List.of(new BlockListEntry("a", 3 * MIB)))) {
            fillRandom(source.get(0).memory(), 8);
            List<String> registrations = migrateDynamicAndListRegistrations(source);
            if (qemu) {
                // One batch of three; only the first result arrives; the other two are asked for one by one.
                assertThat(registrations).containsExactly(
                        "src->dst REGISTER REQUEST len=72 repeat=3", "dst->src REGISTER RESULT len=16 repeat=3",
                        "src->dst REGISTER REQUEST len=24 repeat=1", "dst->src REGISTER RESULT len=16 repeat=1",
                        "src->dst REGISTER REQUEST len=24 repeat=1", "dst->src REGISTER RESULT len=16 repeat=1");
            } else {
                assertThat(registrations).containsExactly(
                        "src->dst REGISTER REQUEST len=72 repeat=3", "dst->src REGISTER RESULT len=48 repeat=3");
            }
        }
    }

    @Test
    void aRoundsFirstRegistrationBatchIsSmallAndTheNextOnesGrow() throws Exception {
        // 170 chunks that are not zero (one byte each): batches of 32, then 128, then the 10 left (the next would be
        // 512).
        try (RamBlocks source = RamBlocks.allocate(List.of(new BlockListEntry("a", 170 * MIB)))) {
            for (long chunk = 0; chunk < 170; chunk++) {
                source.get(0).memory().set(ValueLayout.JAVA_BYTE, chunk * MIB + 4096 * (chunk % 256),
                        (byte) (chunk + 1));
            }
            assertThat(migrateDynamicAndListRegistrations(source)).containsExactly(
                    "src->dst REGISTER REQUEST len=768 repeat=32", "dst->src REGISTER RESULT len=512 repeat=32",
                    "src->dst REGISTER REQUEST len=3072 repeat=128", "dst->src REGISTER RESULT len=2048 repeat=128",
                    "src->dst REGISTER REQUEST len=240 repeat=10", "dst->src REGISTER RESULT len=160 repeat=10");
        }
    }

    /**
     * Migrates a one-block source in dynamic mode, checks the destination's copy byte for byte, and returns the
     * transcript's REGISTER REQUEST and RESULT lines.
     */
    private List<String> migrateDynamicAndListRegistrations(RamBlocks source) throws Exception {
        SourceControl sourceControl = new SourceControl();
        Channel channel = connect(sourceControl);
        DestinationControl destinationControl = plane.accepted();
        PlacingDataPath fabric = new PlacingDataPath();
        CompletableFuture<IncomingMigration> incoming = receive(destinationControl, fabric, false,
                source.totalBytes() + 64 * MIB);
        TestSources.run(sourceControl, fabric, source, TestSources.options(false, () -> TestSources.FAST, TIMEOUT),
                new Workload() { });
        try (RamBlocks received = incoming.get(30, TimeUnit.SECONDS).blocks()) {
            assertThat(received.get(0).memory().mismatch(source.get(0).memory())).isEqualTo(-1);
        }
        channel.close().sync();
        return transcript.stream().filter(line -> line.contains("REGISTER R")).toList();
    }

    @Test
    void xVerifyFailsTheMigrationNamingTheBlockAndOffsetThatDiffer() throws Exception {
        try (RamBlocks source = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 2 * MIB),
                new BlockListEntry("vga", MIB)))) {
            fillRandom(source.get(0).memory(), 9);
            fillRandom(source.get(1).memory(), 10);
            SourceControl sourceControl = new SourceControl();
            Channel channel = connect(sourceControl);
            DestinationControl destinationControl = plane.accepted();
            PlacingDataPath fabric = new PlacingDataPath();
            CompletableFuture<IncomingMigration> incoming = receive(destinationControl, fabric, true, 64 * MIB);
            SourceOptions o = TestSources.options(true, () -> TestSources.FAST, TIMEOUT);
            SourceOptions verify = new SourceOptions(o.pinAll(), o.allocator(), o.timeout(), 1, o.parameters(), false,
                    true, o.timer(), o.recorder(), o.registrationBatch(), true);
            // The first write the "HCA" places (pc.ram at offset 0, one write at a time) arrives damaged.
            fabric.corruptNextWrite.set(true);
            assertThatThrownBy(() -> TestSources.run(sourceControl, fabric, source, verify, new Workload() { }))
                    .isInstanceOf(IOException.class)
                    .hasMessageStartingWith("the destination refused the migration after the final round");
            assertThatThrownBy(() -> incoming.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .cause().cause().isInstanceOf(IOException.class)
                    .hasMessage("x-verify: memory differs from the source in block 'pc.ram' in the chunk at offset 0x0");
            channel.close().sync();
        }
    }

    /** Records each SEND crossing the destination's pipeline: type, and len and repeat except for QEMU FILE. */
    private static final class Transcript extends io.netty.channel.ChannelDuplexHandler {
        private final List<String> lines;
        private final List<Long> registerChunks;

        Transcript(List<String> lines, List<Long> registerChunks) {
            this.lines = lines;
            this.registerChunks = registerChunks;
        }

        @Override
        public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
            io.netty.buffer.ByteBuf send = (io.netty.buffer.ByteBuf) msg;
            if (send.getInt(4) == io.livemig.migration.protocol.ControlType.REGISTER_REQUEST.value()) {
                // RDMARegister: be64 key, be32 index, 4 bytes padding, be64 chunks; 24 bytes a record.
                for (int i = 0; i < send.getInt(8); i++) {
                    registerChunks.add(send.getLong(send.readerIndex() + 16 + 24 * i + 16));
                }
            }
            lines.add("src->dst " + describe(send));
            ctx.fireChannelRead(msg);
        }

        @Override
        public void write(io.netty.channel.ChannelHandlerContext ctx, Object msg,
                io.netty.channel.ChannelPromise promise) {
            lines.add("dst->src " + describe((io.netty.buffer.ByteBuf) msg));
            ctx.write(msg, promise);
        }

        private static String describe(io.netty.buffer.ByteBuf send) {
            var type = io.livemig.migration.protocol.ControlType.fromValue(send.getInt(4));
            return type == io.livemig.migration.protocol.ControlType.QEMU_FILE ? type.displayName()
                    : type.displayName() + " len=" + send.getInt(0) + " repeat=" + send.getInt(8);
        }
    }

    /** Runs a destination on another thread. */
    private static CompletableFuture<IncomingMigration> receive(DestinationControl control, PlacingDataPath fabric,
            boolean pinAll, long memoryLimit) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return new MigrationDestination(control, fabric::registerRemote, pinAll, null, memoryLimit, MIB,
                        TIMEOUT).run(status -> { }).block();
            } catch (RuntimeException e) {
                if (reactor.core.Exceptions.unwrap(e) instanceof IOException io) {
                    throw new java.io.UncheckedIOException(io);
                }
                throw e;
            } finally {
                // As DestinationServer does: closing tells the source that the load finished.
                control.closeConnection().block(TIMEOUT);
            }
        });
    }

    private Channel connect(SourceControl control) throws InterruptedException {
        return plane.connect(control);
    }

    /** What a source uses towards a destination that did not echo the livemig capability: QEMU's exact sequence. */
    private static SourceOptions qemuSequence(boolean pinAll) {
        SourceOptions o = TestSources.options(pinAll, () -> TestSources.FAST, TIMEOUT);
        return SourceOptions.negotiated(o.pinAll(), o.allocator(), o.timeout(), o.parameters(), false, true,
                o.timer(), o.recorder(), false);
    }

    private static void fillRandom(MemorySegment memory, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        for (long offset = 0; offset < memory.byteSize(); offset += 8) {
            memory.set(ValueLayout.JAVA_LONG_UNALIGNED, offset, random.nextLong());
        }
    }
}
