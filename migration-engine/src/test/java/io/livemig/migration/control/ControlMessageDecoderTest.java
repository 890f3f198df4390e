package io.livemig.migration.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.migration.protocol.ControlDecoder;
import io.livemig.migration.protocol.ControlMessage;
import io.livemig.migration.protocol.ControlType;
import io.livemig.migration.protocol.ProtocolError;
import io.livemig.migration.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The inbound handler: one SEND in, its message out; every violation reaches exceptionCaught. */
class ControlMessageDecoderTest {

    private static final ControlMessageDecoder SOURCE = new ControlMessageDecoder(ControlDecoder.forSource());
    private static final ControlMessageDecoder DESTINATION =
            new ControlMessageDecoder(ControlDecoder.forDestination());

    @Test
    void decodesEverySpecVector() {
        for (ControlVectors.Vector vector : ControlVectors.ALL) {
            Received received = new Received();
            EmbeddedChannel channel = new EmbeddedChannel(decoderFor(vector.receiver()), received);
            ByteBuf wire = pooled(vector.plain());
            channel.writeInbound(wire);
            ControlMessage expected = vector.message().get();
            try {
                assertThat(received.messages).as(vector.name()).containsExactly(expected);
                assertThat(received.causes).isEmpty();
            } finally {
                expected.release();
                received.messages.forEach(ControlMessage::release);
            }
            assertThat(wire.refCnt()).as(vector.name()).isZero();
            assertThat(channel.finishAndReleaseAll()).isFalse();
        }
    }

    @Test
    void passesQemuFileOnAsARetainedSliceOfTheReceivedBuffer() {
        Received received = new Received();
        EmbeddedChannel channel = new EmbeddedChannel(DESTINATION, received);
        ByteBuf wire = pooled("00000002 00000003 00000000 00000000 abcd");
        channel.writeInbound(wire);
        ControlMessage message = received.messages.getFirst();
        // The decoder released its reference to the received buffer; the message holds the slice's.
        assertThat(wire.refCnt()).isOne();
        wire.setByte(16, 0x11);
        assertThat(ByteBufUtil.hexDump(message.data())).isEqualTo("11cd");
        assertThat(message.release()).isTrue();
        assertThat(wire.refCnt()).isZero();
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void rejectsFewerBytesThanAHeader() {
        assertRejected(DESTINATION, "00000000 00000002", ProtocolError.TRUNCATED,
                "truncated control header: 8 of 16 bytes");
        assertRejected(SOURCE, "", ProtocolError.TRUNCATED, "truncated control header: 0 of 16 bytes");
    }

    @Test
    void rejectsLengthAbove524272() {
        assertRejected(DESTINATION, "0007fff1 00000003 00000000 00000000 00", ProtocolError.LENGTH_TOO_LONG,
                "control message too long: length 524273 exceeds the maximum 524272");
        assertRejected(SOURCE, "ffffffff 00000002 00000001 00000000", ProtocolError.LENGTH_TOO_LONG,
                "control message too long: length 4294967295 exceeds the maximum 524272");
    }

    @Test
    void rejectsLengthThatDiffersFromTheBytesReceived() {
        assertRejected(DESTINATION, "00000008 00000003 00000000 00000000 01020304", ProtocolError.LENGTH_MISMATCH,
                "malformed length: the header announces 16 + 8 bytes, but 20 bytes were received");
        assertRejected(SOURCE, "00000000 00000002 00000001 00000000 00", ProtocolError.LENGTH_MISMATCH,
                "malformed length: the header announces 16 + 0 bytes, but 17 bytes were received");
    }

    @Test
    void rejectsUnknownType() {
        assertRejected(DESTINATION, "00000000 0000000c 00000001 00000000", ProtocolError.UNKNOWN_TYPE,
                "unknown control message type 12 (known types are 0 to 11)");
        assertRejected(SOURCE, "00000000 80000000 00000001 00000000", ProtocolError.UNKNOWN_TYPE,
                "unknown control message type 2147483648 (known types are 0 to 11)");
    }

    @Test
    void destinationRejectsRepeatAbove4096AndSourceDoesNot() {
        String wire = "00000000 00000009 00001001 00000000";
        assertRejected(DESTINATION, wire, ProtocolError.REPEAT_TOO_LARGE,
                "too many requests in this message (4097); at most 4096 are allowed");

        Received received = new Received();
        EmbeddedChannel channel = new EmbeddedChannel(SOURCE, received);
        channel.writeInbound(pooled(wire));
        assertThat(received.causes).isEmpty();
        ControlMessage message = received.messages.getFirst();
        assertThat(message.type()).isEqualTo(ControlType.REGISTER_FINISHED);
        assertThat(message.repeat()).isEqualTo(4097);
        message.release();
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void keepsDecodingAfterARejectedMessage() {
        Received received = new Received();
        EmbeddedChannel channel = new EmbeddedChannel(DESTINATION, received);
        ByteBuf bad = pooled("00000000 0000000c 00000001 00000000");
        channel.writeInbound(bad, pooled("00000000 00000009 00000001 00000000"));
        assertThat(bad.refCnt()).isZero();
        assertThat(received.causes).hasSize(1);
        assertThat(received.messages).containsExactly(ControlMessage.registerFinished());
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void passesOtherMessagesThrough() {
        EmbeddedChannel channel = new EmbeddedChannel(DESTINATION);
        channel.writeInbound("not a buffer");
        assertThat((Object) channel.readInbound()).isEqualTo("not a buffer");
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void oneInstanceServesManyChannels() {
        assertThat(DESTINATION.isSharable()).isTrue();
        EmbeddedChannel first = new EmbeddedChannel(DESTINATION);
        EmbeddedChannel second = new EmbeddedChannel(DESTINATION);
        first.writeInbound(pooled("00000000 00000009 00000001 00000000"));
        second.writeInbound(pooled("00000000 00000004 00000001 00000000"));
        ControlMessage one = first.readInbound();
        ControlMessage two = second.readInbound();
        assertThat(one.type()).isEqualTo(ControlType.REGISTER_FINISHED);
        assertThat(two.type()).isEqualTo(ControlType.RAM_BLOCKS_REQUEST);
        one.release();
        two.release();
        assertThat(first.finishAndReleaseAll()).isFalse();
        assertThat(second.finishAndReleaseAll()).isFalse();
    }

    @Test
    void protocolCauseUnwrapsDecoderExceptions() {
        ProtocolException protocol = new ProtocolException(ProtocolError.UNKNOWN_TYPE, "unknown");
        assertThat(ControlMessageDecoder.protocolCause(protocol)).isSameAs(protocol);
        assertThat(ControlMessageDecoder.protocolCause(new DecoderException(protocol))).isSameAs(protocol);
        assertThat(ControlMessageDecoder.protocolCause(new DecoderException(new DecoderException(protocol))))
                .isSameAs(protocol);
        assertThat(ControlMessageDecoder.protocolCause(new DecoderException(new IOException("x")))).isNull();
        assertThat(ControlMessageDecoder.protocolCause(new DecoderException("no cause"))).isNull();
        assertThat(ControlMessageDecoder.protocolCause(new IOException("x", protocol))).isNull();
        assertThat(ControlMessageDecoder.protocolCause(null)).isNull();
    }

    private static ControlMessageDecoder decoderFor(ControlDecoder role) {
        return role.role() == ControlDecoder.Role.SOURCE ? SOURCE : DESTINATION;
    }

    /**
     * Sends {@code hex} in and checks that exceptionCaught gets the violation, that nothing is passed on,
     * and that the received buffer is released.
     */
    private static void assertRejected(ControlMessageDecoder decoder, String hex, ProtocolError error,
            String message) {
        Received received = new Received();
        EmbeddedChannel channel = new EmbeddedChannel(decoder, received);
        ByteBuf wire = pooled(hex);
        channel.writeInbound(wire);
        assertThat(wire.refCnt()).isZero();
        assertThat(received.messages).isEmpty();
        assertThat(received.causes).singleElement()
                .isInstanceOf(DecoderException.class)
                .satisfies(cause -> {
                    ProtocolException protocol = ControlMessageDecoder.protocolCause(cause);
                    assertThat(protocol).isNotNull().isSameAs(cause.getCause()).hasMessage(message);
                    assertThat(protocol.error()).isEqualTo(error);
                });
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    /** The received bytes in a pooled (leak-tracked) buffer. */
    private static ByteBuf pooled(String hex) {
        byte[] bytes = ByteBufUtil.decodeHexDump(hex.replace(" ", ""));
        return PooledByteBufAllocator.DEFAULT.buffer(Math.max(1, bytes.length)).writeBytes(bytes);
    }

    /** The end of the pipeline: what the decoder passed on, and what reached exceptionCaught. */
    private static final class Received extends ChannelInboundHandlerAdapter {
        final List<ControlMessage> messages = new ArrayList<>();
        final List<Throwable> causes = new ArrayList<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            messages.add((ControlMessage) msg);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            causes.add(cause);
        }
    }
}
