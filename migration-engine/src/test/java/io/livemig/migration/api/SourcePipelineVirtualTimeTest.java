package io.livemig.migration.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.migration.control.SourceControl;
import io.livemig.migration.observe.MigrationRecorder;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.ControlDecoder;
import io.livemig.migration.protocol.ControlMessage;
import io.livemig.migration.protocol.ControlType;
import io.livemig.migration.protocol.RegisterResult;
import io.livemig.migration.protocol.RemoteBlock;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.source.RoundStats;
import io.livemig.migration.source.SourceOptions;
import io.livemig.migration.status.MigrationStatus;
import io.livemig.migration.status.MigrationTracker;
import io.livemig.migration.testing.PlacingDataPath;
import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * The source pipeline in virtual time against a destination scripted on the wire: the source's control
 * endpoint sits in an {@link EmbeddedChannel} whose outbound buffers are the SENDs it posts, the test
 * grants READY credits one at a time and answers requests, and the writes land in destination memory
 * through {@link PlacingDataPath} (whose 1 ms write latency is virtual too). Nothing here sleeps.
 */
class SourcePipelineVirtualTimeTest {

    private static final long MIB = 1 << 20;
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private VirtualTimeScheduler time;
    private final SourceControl control = new SourceControl();
    private final EmbeddedChannel wire = new EmbeddedChannel(control);
    private final PlacingDataPath fabric = new PlacingDataPath();
    private final List<String> transcript = new ArrayList<>();
    private RamBlocks source;
    private RamBlocks destination;
    private MemoryRegion destinationRegion;
    private final AtomicReference<MigrationParameters> parameters =
            new AtomicReference<>(MigrationParameters.DEFAULTS.withMaxBandwidth(0));

    @BeforeEach
    void start() {
        time = VirtualTimeScheduler.getOrSet();
        // Chunks 0 and 2 hold data, chunk 1 is zero (it goes as COMPRESS), chunk 3 holds data.
        source = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 4 * MIB)));
        destination = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 4 * MIB)));
        SplittableRandom random = new SplittableRandom(7);
        for (long offset : new long[] {0, 2 * MIB, 3 * MIB}) {
            for (long i = 0; i < MIB; i += 8) {
                source.get(0).memory().set(ValueLayout.JAVA_LONG_UNALIGNED, offset + i, random.nextLong());
            }
        }
        destinationRegion = fabric.registerRemote(destination.get(0).memory(), EnumSet.of(AccessFlag.REMOTE_WRITE));
    }

    @AfterEach
    void stop() {
        wire.finishAndReleaseAll();
        source.close();
        destination.close();
        VirtualTimeScheduler.reset();
    }

    private SourcePipeline pipeline() {
        SourceOptions options = new SourceOptions(false, PooledByteBufAllocator.DEFAULT, TIMEOUT, 16, parameters::get,
                false, false, time, MigrationRecorder.NOOP, SourceOptions.DEFAULT_REGISTRATION_BATCH, true);
        return new SourcePipeline(control, fabric, source, options);
    }

    /** The SENDs the source posted since the last look, decoded as the destination decodes them. */
    private List<ControlMessage> sent() {
        List<ControlMessage> messages = new ArrayList<>();
        ByteBuf send;
        while ((send = wire.readOutbound()) != null) {
            try {
                messages.add(ControlDecoder.forDestination().decode(send));
            } finally {
                send.release();
            }
        }
        return messages;
    }

    private void deliver(ControlMessage message) {
        ByteBuf out = Unpooled.buffer(message.encodedLength());
        message.encode(out);
        message.release();
        wire.writeInbound(out);
    }

    /**
     * Grants one READY and returns the one message it let through (the wire must carry nothing before the
     * READY and exactly one SEND after it), answering it when it is a request.
     */
    private ControlType grant() {
        assertThat(sent()).as("SENDs before the READY").isEmpty();
        deliver(ControlMessage.ready());
        List<ControlMessage> messages = sent();
        assertThat(messages).as("SENDs for one READY").hasSize(1);
        ControlMessage message = messages.getFirst();
        try {
            transcript.add(message.type().displayName());
            switch (message.type()) {
                case RAM_BLOCKS_REQUEST -> deliver(ControlMessage.ramBlocksResult(List.of(new RemoteBlock(
                        destinationRegion.address(), 0, 4 * MIB, destinationRegion.rkey()))));
                case REGISTER_REQUEST -> deliver(ControlMessage.registerResult(message.registerRequests().stream()
                        .map(request -> new RegisterResult(destinationRegion.rkey(), destinationRegion.address()))
                        .toList()));
                default -> { }
            }
            return message.type();
        } finally {
            message.release();
        }
    }

    /** Grants READYs until the source has nothing more to send without waiting on something else. */
    private void grantWhileSending() {
        while (true) {
            time.advanceTime();
            deliver(ControlMessage.ready());
            List<ControlMessage> messages = sent();
            if (messages.isEmpty()) {
                // Nothing took the credit yet: it stays granted (the source's demand is 1) for the next SEND.
                return;
            }
            assertThat(messages).hasSize(1);
            ControlMessage message = messages.getFirst();
            transcript.add(message.type().displayName());
            try {
                if (message.type() == ControlType.REGISTER_REQUEST) {
                    deliver(ControlMessage.registerResult(message.registerRequests().stream()
                            .map(request -> new RegisterResult(destinationRegion.rkey(), destinationRegion.address()))
                            .toList()));
                }
            } finally {
                message.release();
            }
        }
    }

    @Test
    void everySendWaitsForItsReadyCreditByCreditToTheEndOfTheStream() {
        MigrationTracker tracker = new MigrationTracker(() -> time.now(java.util.concurrent.TimeUnit.NANOSECONDS));
        tracker.start(source.totalBytes());
        List<MigrationStatus> statuses = new ArrayList<>();
        SourcePipeline pipeline = pipeline();
        StepVerifier.withVirtualTime(() -> pipeline.run(new Workload() { }, tracker, new SourcePipeline.Events() {
                    @Override
                    public void status(MigrationStatus status) {
                        statuses.add(status);
                    }
                }), () -> time, Long.MAX_VALUE)
                .then(() -> {
                    // setup: the stream header and block list, the RAM BLOCKS exchange, REGISTER FINISHED
                    assertThat(grant()).isEqualTo(ControlType.QEMU_FILE);
                    assertThat(grant()).isEqualTo(ControlType.RAM_BLOCKS_REQUEST);
                    assertThat(grant()).isEqualTo(ControlType.REGISTER_FINISHED);
                    // the bulk round: EOS + round header + HOOK, one registration for both data chunks seen
                    // so far, the zero chunk as COMPRESS, then REGISTER FINISHED once every write completed
                    assertThat(grant()).isEqualTo(ControlType.QEMU_FILE);
                    assertThat(grant()).isEqualTo(ControlType.REGISTER_REQUEST);
                    assertThat(grant()).isEqualTo(ControlType.COMPRESS);
                })
                .thenAwait(Duration.ofMillis(5)) // the writes' virtual latency
                .then(() -> {
                    assertThat(grant()).isEqualTo(ControlType.REGISTER_FINISHED);
                    // switchover: EOS + final part header + HOOK, nothing dirty, REGISTER FINISHED
                    assertThat(grant()).isEqualTo(ControlType.QEMU_FILE);
                    assertThat(grant()).isEqualTo(ControlType.REGISTER_FINISHED);
                    // EOS, the state section and EOF
                    assertThat(grant()).isEqualTo(ControlType.QEMU_FILE);
                    assertThat(sent()).isEmpty();
                    // The destination finished loading and hangs up: the source's migration is complete.
                    wire.close();
                })
                .assertNext(rounds -> assertThat(rounds).extracting(RoundStats::normalPages)
                        .containsExactly(3 * MIB / 4096, 0L))
                .verifyComplete();
        assertThat(statuses).containsExactly(MigrationStatus.ACTIVE, MigrationStatus.DEVICE);
        assertThat(destination.get(0).memory().mismatch(source.get(0).memory())).isEqualTo(-1);
        assertThat(fabric.chunkOverlap.get()).isZero();
    }

    @Test
    void maxBandwidthPacesTheWritesAndAChangeTakesEffectWithinOneBucketPeriod() {
        parameters.set(MigrationParameters.DEFAULTS.withMaxBandwidth(MIB)); // 1 MiB/s: one chunk a second
        MigrationTracker tracker = new MigrationTracker(() -> time.now(java.util.concurrent.TimeUnit.NANOSECONDS));
        tracker.start(source.totalBytes());
        SourcePipeline pipeline = pipeline();
        BaseSubscriber<List<RoundStats>> subscriber = new BaseSubscriber<>() { };
        pipeline.run(new Workload() { }, tracker, new SourcePipeline.Events() { }).subscribe(subscriber);
        assertThat(grant()).isEqualTo(ControlType.QEMU_FILE);
        assertThat(grant()).isEqualTo(ControlType.RAM_BLOCKS_REQUEST);
        assertThat(grant()).isEqualTo(ControlType.REGISTER_FINISHED);
        assertThat(grant()).isEqualTo(ControlType.QEMU_FILE);
        assertThat(grant()).isEqualTo(ControlType.REGISTER_REQUEST);
        // The control bytes so far (well under 1 KiB) are a debt of under a millisecond; then the first write.
        time.advanceTimeBy(Duration.ofMillis(1));
        assertThat(fabric.posted.get()).isEqualTo(1);
        // The next write waits until the first megabyte is paid: about one second at 1 MiB/s.
        time.advanceTimeBy(Duration.ofMillis(990));
        assertThat(fabric.posted.get()).isEqualTo(1);
        grantWhileSending(); // the zero chunk's COMPRESS goes without waiting for bandwidth
        time.advanceTimeBy(Duration.ofMillis(20));
        assertThat(fabric.posted.get()).isEqualTo(2);
        // Raise the cap mid-round: the waiting write goes within one bucket period (50 ms), not a second.
        parameters.set(MigrationParameters.DEFAULTS.withMaxBandwidth(1024 * MIB));
        time.advanceTimeBy(Duration.ofMillis(60));
        assertThat(fabric.posted.get()).isEqualTo(3);
        assertThat(transcript).containsExactly("QEMU FILE", "RAM BLOCKS REQUEST", "REGISTER FINISHED", "QEMU FILE",
                "REGISTER REQUEST", "COMPRESS");
        subscriber.dispose();
        pipeline.cancel(new CancellationException("migration cancelled"), Mono.empty()).subscribe();
        time.advanceTimeBy(Duration.ofMillis(5));
        sent().forEach(ControlMessage::release);
    }

    @Test
    void cancellingMidRoundPostsNoFurtherWriteSendsErrorAndLeavesTheSourceAsItWas() {
        parameters.set(MigrationParameters.DEFAULTS.withMaxBandwidth(MIB));
        byte[] before = source.get(0).memory().toArray(ValueLayout.JAVA_BYTE);
        MigrationTracker tracker = new MigrationTracker(() -> time.now(java.util.concurrent.TimeUnit.NANOSECONDS));
        tracker.start(source.totalBytes());
        SourcePipeline pipeline = pipeline();
        BaseSubscriber<List<RoundStats>> subscriber = new BaseSubscriber<>() { };
        pipeline.run(new Workload() { }, tracker, new SourcePipeline.Events() { }).subscribe(subscriber);
        for (int i = 0; i < 5; i++) {
            grant();
        }
        time.advanceTimeBy(Duration.ofMillis(1));
        assertThat(fabric.posted.get()).isEqualTo(1);
        assertThat(pipeline.writesInFlight()).isEqualTo(1);

        // Cancel while the first write is in flight and the second waits for bandwidth.
        subscriber.dispose();
        AtomicReference<String> cancelled = new AtomicReference<>();
        pipeline.cancel(new CancellationException("migration cancelled"), Mono.empty())
                .subscribe(null, null, () -> cancelled.set("released"));
        // ERROR goes at once, without a READY; nothing else is sent.
        List<ControlMessage> afterCancel = sent();
        assertThat(afterCancel).extracting(ControlMessage::type).containsExactly(ControlType.ERROR);
        afterCancel.forEach(ControlMessage::release);
        // The write in flight completes (drained) before the memory is deregistered; then nothing moves.
        assertThat(cancelled.get()).isNull();
        time.advanceTimeBy(Duration.ofMillis(1));
        assertThat(cancelled.get()).isEqualTo("released");
        assertThat(pipeline.writesInFlight()).isZero();
        time.advanceTimeBy(Duration.ofSeconds(10));
        deliver(ControlMessage.ready());
        assertThat(sent()).isEmpty();
        assertThat(fabric.posted.get()).isEqualTo(1);
        assertThat(control.failure()).isInstanceOf(CancellationException.class).hasMessage("migration cancelled");
        assertThat(source.get(0).memory().toArray(ValueLayout.JAVA_BYTE)).isEqualTo(before);
    }

    @Test
    void aWriteThatNeverCompletesFailsTheMigrationAfterTheTimeoutWithError() {
        // A link cut without a reset: the write is posted and its completion never comes.
        io.livemig.migration.source.RdmaDataPath cut = new io.livemig.migration.source.RdmaDataPath() {
            @Override
            public MemoryRegion register(java.lang.foreign.MemorySegment memory, java.util.Set<AccessFlag> access) {
                return fabric.register(memory, access);
            }

            @Override
            public Mono<Void> write(MemoryRegion local, long offset, int length, long remoteAddress, int rkey) {
                return Mono.never();
            }
        };
        SourceOptions options = new SourceOptions(false, PooledByteBufAllocator.DEFAULT, TIMEOUT, 16, parameters::get,
                false, false, time, MigrationRecorder.NOOP, SourceOptions.DEFAULT_REGISTRATION_BATCH, true);
        MigrationTracker tracker = new MigrationTracker(() -> time.now(java.util.concurrent.TimeUnit.NANOSECONDS));
        tracker.start(source.totalBytes());
        SourcePipeline pipeline = new SourcePipeline(control, cut, source, options);
        StepVerifier.withVirtualTime(() -> pipeline.run(new Workload() { }, tracker, new SourcePipeline.Events() { }),
                        () -> time, Long.MAX_VALUE)
                .then(() -> {
                    for (int i = 0; i < 5; i++) {
                        grant();
                    }
                    assertThat(pipeline.writesInFlight()).isPositive();
                })
                .thenAwait(TIMEOUT.minusMillis(1))
                .then(() -> assertThat(sent()).isEmpty())
                .thenAwait(Duration.ofMillis(1))
                .expectErrorSatisfies(error -> assertThat(error).isInstanceOf(java.io.IOException.class)
                        .hasMessage("an RDMA WRITE of 1048576 bytes did not complete within 30000 ms (the link or the"
                                + " destination is gone)"))
                .verify();
        List<ControlMessage> after = sent();
        assertThat(after).extracting(ControlMessage::type).containsExactly(ControlType.ERROR);
        after.forEach(ControlMessage::release);
        assertThat(pipeline.writesInFlight()).isZero();
    }
}
