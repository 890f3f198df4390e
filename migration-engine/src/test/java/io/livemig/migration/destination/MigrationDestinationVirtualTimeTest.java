package io.livemig.migration.destination;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.migration.control.DestinationControl;
import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.Compress;
import io.livemig.migration.protocol.ControlDecoder;
import io.livemig.migration.protocol.ControlMessage;
import io.livemig.migration.protocol.ControlType;
import io.livemig.migration.protocol.ProtocolException;
import io.livemig.migration.protocol.RegisterRequest;
import io.livemig.migration.protocol.RemoteBlock;
import io.livemig.migration.status.MigrationStatus;
import io.livemig.migration.stream.MigrationStreamWriter;
import io.livemig.migration.testing.PlacingDataPath;
import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * The destination pipeline in virtual time against a source scripted on the wire: the destination's
 * control endpoint sits in an {@link EmbeddedChannel}; the test answers each READY with the source's next
 * message, checks that exactly one READY goes per message handled and never before the response owed,
 * and performs the source's RDMA WRITE through {@link PlacingDataPath}. Allocation and registration
 * run on {@code boundedElastic}, which virtual time replaces, so every step runs on the test thread.
 */
class MigrationDestinationVirtualTimeTest {

    private static final long MIB = 1 << 20;
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final List<BlockListEntry> LAYOUT = List.of(new BlockListEntry("pc.ram", 2 * MIB));

    private VirtualTimeScheduler time;
    private final DestinationControl control = new DestinationControl();
    private final EmbeddedChannel wire = new EmbeddedChannel(control);
    private final PlacingDataPath fabric = new PlacingDataPath();
    private final Arena arena = Arena.ofShared();
    private ByteBuf stream;
    private MigrationStreamWriter writer;

    @BeforeEach
    void start() {
        time = VirtualTimeScheduler.getOrSet();
        stream = Unpooled.buffer();
        writer = new MigrationStreamWriter(new DataOutputStream(new ByteBufOutputStream(stream)));
    }

    @AfterEach
    void stop() {
        wire.finishAndReleaseAll();
        stream.release();
        arena.close();
        VirtualTimeScheduler.reset();
    }

    private MigrationDestination destination() {
        return new MigrationDestination(control, fabric::registerRemote, false, null, 64 * MIB, MIB, TIMEOUT)
                .timer(time);
    }

    /** What the destination sent since the last look: types, in order. */
    private List<ControlMessage> sent() {
        List<ControlMessage> messages = new ArrayList<>();
        ByteBuf send;
        while ((send = wire.readOutbound()) != null) {
            try {
                messages.add(ControlDecoder.forSource().decode(send));
            } finally {
                send.release();
            }
        }
        return messages;
    }

    private List<ControlType> sentTypes() {
        List<ControlMessage> messages = sent();
        List<ControlType> types = messages.stream().map(ControlMessage::type).toList();
        messages.forEach(ControlMessage::release);
        return types;
    }

    private void deliver(ControlMessage message) {
        ByteBuf out = Unpooled.buffer(message.encodedLength());
        message.encode(out);
        message.release();
        wire.writeInbound(out);
    }

    /** The stream written since the last call, as one QEMU FILE message. */
    private void deliverStream() {
        deliver(ControlMessage.qemuFile(stream.readRetainedSlice(stream.readableBytes())));
    }

    @Test
    void oneReadyPerMessageHandledNeverBeforeTheResponseAndNoneAfterTheEndOfStream() throws IOException {
        MemorySegment source = arena.allocate(2 * MIB);
        source.asSlice(0, MIB).fill((byte) 0x5a);
        MemoryRegion local = fabric.register(source, EnumSet.noneOf(AccessFlag.class));
        List<MigrationStatus> statuses = new ArrayList<>();
        RemoteBlock[] remote = new RemoteBlock[1];
        int[] rkey = new int[1];
        StepVerifier.withVirtualTime(() -> destination().run(statuses::add), () -> time, Long.MAX_VALUE)
                .then(() -> assertThat(sentTypes()).containsExactly(ControlType.READY))
                .then(() -> {
                    write(() -> {
                        writer.writeHeader();
                        writer.beginRamSetup(LAYOUT);
                    });
                    deliverStream();
                    // The block list allocated the block; the HOOK entered the registration loop: one READY.
                    assertThat(sentTypes()).containsExactly(ControlType.READY);
                    deliver(ControlMessage.ramBlocksRequest());
                    List<ControlMessage> answer = sent();
                    assertThat(answer).extracting(ControlMessage::type)
                            .containsExactly(ControlType.RAM_BLOCKS_RESULT, ControlType.READY);
                    remote[0] = answer.getFirst().remoteBlocks().getFirst();
                    answer.forEach(ControlMessage::release);
                    assertThat(remote[0].length()).isEqualTo(2 * MIB);
                    deliver(ControlMessage.registerFinished());
                    assertThat(sentTypes()).containsExactly(ControlType.READY);

                    // The bulk round: EOS and the round's HOOK, a registration, a COMPRESS, REGISTER FINISHED.
                    write(() -> {
                        writer.endRamPart();
                        writer.beginRamRound();
                    });
                    deliverStream();
                    assertThat(sentTypes()).containsExactly(ControlType.READY);
                    assertThat(statuses).containsExactly(MigrationStatus.ACTIVE);
                    deliver(ControlMessage.registerRequest(List.of(new RegisterRequest(0, 0, 1))));
                    List<ControlMessage> registered = sent();
                    assertThat(registered).extracting(ControlMessage::type)
                            .containsExactly(ControlType.REGISTER_RESULT, ControlType.READY);
                    rkey[0] = registered.getFirst().registerResults().getFirst().rkey();
                    registered.forEach(ControlMessage::release);
                    // The source's one-sided write lands without the destination's CPU.
                    fabric.write(local, 0, (int) MIB, remote[0].remoteHostAddr(), rkey[0]).subscribe();
                })
                .thenAwait(Duration.ofMillis(1))
                .then(() -> {
                    deliver(ControlMessage.compress(Compress.zero(0, MIB, MIB)));
                    assertThat(sentTypes()).containsExactly(ControlType.READY);
                    deliver(ControlMessage.registerFinished());
                    assertThat(sentTypes()).containsExactly(ControlType.READY);
                    // The final part, then the state and the end of the stream.
                    write(() -> {
                        writer.endRamPart();
                        writer.beginRamFinish();
                    });
                    deliverStream();
                    assertThat(sentTypes()).containsExactly(ControlType.READY);
                    deliver(ControlMessage.registerFinished());
                    assertThat(sentTypes()).containsExactly(ControlType.READY);
                    write(() -> {
                        writer.endRamPart();
                        writer.writeFullSection("livemig-app", 0, 1, new byte[] {7, 8, 9});
                        writer.writeEof();
                    });
                    deliverStream();
                })
                .assertNext(incoming -> {
                    try (var blocks = incoming.blocks()) {
                        assertThat(blocks.get(0).memory().mismatch(source)).isEqualTo(-1);
                        assertThat(incoming.state().get("livemig-app")).containsExactly(7, 8, 9);
                        assertThat(incoming.zeroPages()).isEqualTo(MIB / 4096);
                    }
                })
                .verifyComplete();
        // No READY after the end of the stream: the source has nothing more to send.
        assertThat(sentTypes()).isEmpty();
    }

    @Test
    void aSourceThatDoesNotAnswerAReadyWithinTheTimeoutFailsTheLoadAndGetsAnError() {
        StepVerifier.withVirtualTime(() -> destination().run(status -> { }), () -> time, Long.MAX_VALUE)
                .then(() -> assertThat(sentTypes()).containsExactly(ControlType.READY))
                .thenAwait(TIMEOUT.minusMillis(1))
                .then(() -> assertThat(sentTypes()).isEmpty())
                .thenAwait(Duration.ofMillis(1))
                .expectErrorSatisfies(error -> assertThat(error).isInstanceOf(IOException.class)
                        .hasMessage("waiting for the source's next control message timed out after 30000 ms"))
                .verify();
        assertThat(sentTypes()).containsExactly(ControlType.ERROR);
    }

    /**
     * Requests a destination must refuse, each sent by a hand-driven source in the bulk round's registration
     * loop, and the exact reason the destination's migration then fails with.
     */
    static Stream<Arguments> refusedRequests() {
        return Stream.of(
                Arguments.of(ControlMessage.registerRequest(List.of(new RegisterRequest(0, 3, 0))),
                        "refused REGISTER REQUEST for block 3: no such block (the destination has 1)"),
                Arguments.of(ControlMessage.registerRequest(List.of(new RegisterRequest(MIB, 0, 2))),
                        "refused REGISTER REQUEST for block 0 ('pc.ram'), offset 0x100000, 3 chunks: chunks 1 to 3"
                                + " go past the block's last chunk, 2"),
                Arguments.of(ControlMessage.registerRequest(List.of(new RegisterRequest(3 * MIB, 0, 0))),
                        "refused REGISTER REQUEST for block 0 ('pc.ram'), offset 0x300000, 1 chunk: the offset is"
                                + " beyond the block's end, 0x200000"),
                Arguments.of(ControlMessage.compress(Compress.zero(3, 0, MIB)),
                        "refused COMPRESS for block 3: no such block (the destination has 1)"),
                Arguments.of(ControlMessage.compress(Compress.zero(0, MIB + 4096, MIB)),
                        "refused COMPRESS for block 0 ('pc.ram'), offset 0x101000, 1048576 bytes: the range ends"
                                + " beyond the block's end, 0x200000"),
                Arguments.of(ControlMessage.compress(new Compress(0xff, 0, 0, 4096)),
                        "refused COMPRESS for block 0 ('pc.ram'), offset 0x0, 4096 bytes: fill value 255, but only"
                                + " zero pages are supported"));
    }

    @ParameterizedTest
    @MethodSource("refusedRequests")
    void aRefusedRequestFailsTheLoadNamingTheRequestAndSendsError(ControlMessage request, String reason) {
        StepVerifier.withVirtualTime(() -> destination().run(status -> { }), () -> time, Long.MAX_VALUE)
                .then(() -> {
                    assertThat(sentTypes()).containsExactly(ControlType.READY);
                    write(() -> {
                        writer.writeHeader();
                        writer.beginRamSetup(LAYOUT);
                    });
                    deliverStream();
                    assertThat(sentTypes()).containsExactly(ControlType.READY);
                    deliver(ControlMessage.ramBlocksRequest());
                    sent().forEach(ControlMessage::release);
                    deliver(ControlMessage.registerFinished());
                    write(() -> {
                        writer.endRamPart();
                        writer.beginRamRound();
                    });
                    deliverStream();
                    assertThat(sentTypes()).containsExactly(ControlType.READY, ControlType.READY);
                    deliver(request);
                })
                .expectErrorSatisfies(error -> assertThat(error).isInstanceOf(ProtocolException.class)
                        .hasMessage(reason))
                .verify();
        // QEMU's ERROR has no room for a reason: the source learns that, not why.
        assertThat(sentTypes()).containsExactly(ControlType.ERROR);
    }

    @FunctionalInterface
    private interface StreamStep {
        void run() throws IOException;
    }

    private static void write(StreamStep step) {
        try {
            step.run();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
