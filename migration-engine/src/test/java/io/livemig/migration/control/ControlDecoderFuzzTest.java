package io.livemig.migration.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.livemig.migration.protocol.ControlDecoder;
import io.livemig.migration.protocol.ControlHeader;
import io.livemig.migration.protocol.ControlMessage;
import io.livemig.migration.protocol.ControlType;
import io.livemig.migration.protocol.ProtocolException;
import io.livemig.migration.protocol.RegisterRequest;
import io.livemig.migration.protocol.RegisterResult;
import io.livemig.migration.protocol.RemoteBlock;
import io.livemig.testing.FuzzInputs;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Coverage-guided fuzzing of the control decoder, as a peer's SEND reaches it: every input, decoded by either role,
 * is a message or a {@link ProtocolException}; nothing else escapes, nothing is read beyond the input (it sits in a
 * buffer of exactly its size), a refused input is left unread and unretained, a decoded message re-encodes to bytes
 * that decode to the same message, and no buffer leaks: every reference is counted back to zero per input, and the
 * build's PARANOID leak detector checks the class afterwards.
 *
 * <p>The seeds are spec section 13's whole-message vectors and messages the encoders produce ({@link #seeds}). In
 * the normal build the seeds and any checked-in regression inputs run once; {@code scripts/fuzz.sh
 * ControlDecoderFuzzTest#decode} fuzzes (docs/fuzzing.md).
 */
class ControlDecoderFuzzTest {

    private static final List<ControlDecoder> DECODERS = List.of(ControlDecoder.forSource(),
            ControlDecoder.forDestination());
    private static final ControlMessageDecoder[] HANDLERS = {new ControlMessageDecoder(ControlDecoder.forSource()),
            new ControlMessageDecoder(ControlDecoder.forDestination())};

    @FuzzTest
    void decode(byte[] input) {
        for (ControlDecoder decoder : DECODERS) {
            ByteBuf received = exactly(input);
            try {
                ControlMessage message;
                try {
                    message = decoder.decode(received);
                } catch (ProtocolException refused) {
                    assertThat(received.readerIndex()).as("reader index after a refusal").isZero();
                    assertThat(received.refCnt()).as("references after a refusal").isOne();
                    continue;
                }
                try {
                    assertThat(received.isReadable()).as("bytes left after a decoded message").isFalse();
                    assertReencodes(decoder, message);
                } finally {
                    message.release();
                }
                assertThat(received.refCnt()).as("references once the message is released").isOne();
            } finally {
                received.release();
            }
        }
    }

    @FuzzTest
    void channelDecoder(byte[] input) {
        for (ControlMessageDecoder handler : HANDLERS) {
            EmbeddedChannel channel = new EmbeddedChannel(handler);
            ByteBuf received = exactly(input);
            try {
                channel.writeInbound(received);
                ControlMessage message = channel.readInbound();
                assertThat(message).as("a decoded message").isNotNull();
                message.release();
            } catch (DecoderException e) {
                assertThat(ControlMessageDecoder.protocolCause(e)).as("the refusal's cause").isNotNull();
            }
            if (input.length > 0) {
                assertThat(received.refCnt()).as("references to the received buffer").isZero();
            }
            assertThat(channel.finishAndReleaseAll()).as("anything else passed on").isFalse();
        }
    }

    @Test
    void seedsAreTheSpecVectorsAndWhatTheEncodersProduce() {
        Map<String, byte[]> seeds = seeds();
        FuzzInputs.check(getClass(), "decode", seeds);
        FuzzInputs.check(getClass(), "channelDecoder", seeds);
    }

    /** Spec section 13's vectors (up to libFuzzer's default 4096-byte inputs), then multi-record messages. */
    static Map<String, byte[]> seeds() {
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        for (ControlVectors.Vector vector : ControlVectors.ALL) {
            byte[] bytes = ByteBufUtil.decodeHexDump(vector.plain());
            if (bytes.length <= 4096) {
                seeds.put("spec-" + vector.name().toLowerCase().replaceAll("[^a-z0-9]+", "-"), bytes);
            }
        }
        List<RegisterRequest> requests = IntStream.range(0, 3)
                .mapToObj(i -> new RegisterRequest(0x100000L * i, i, i)).toList();
        seeds.put("register-request-3", encode(ControlMessage.registerRequest(requests)));
        seeds.put("unregister-request-3", encode(ControlMessage.unregisterRequest(requests)));
        seeds.put("register-result-2", encode(ControlMessage.registerResult(List.of(
                new RegisterResult(1, 0x7F0000000000L), new RegisterResult(2, 0x7F0000100000L)))));
        seeds.put("ram-blocks-result-3", encode(ControlMessage.ramBlocksResult(List.of(ControlVectors.A,
                ControlVectors.B, new RemoteBlock(0x7F1400000000L, 0x200000000L, 1 << 20, 7)))));
        seeds.put("ram-blocks-result-0", encode(ControlMessage.ramBlocksResult(List.of())));
        seeds.put("unregister-finished-4096", encode(ControlMessage.unregisterFinished(4096)));
        byte[] stream = new byte[256];
        for (int i = 0; i < stream.length; i++) {
            stream[i] = (byte) i;
        }
        seeds.put("qemu-file-256", encode(ControlMessage.qemuFile(Unpooled.wrappedBuffer(stream))));
        return seeds;
    }

    private static byte[] encode(ControlMessage message) {
        ByteBuf out = Unpooled.buffer(message.encodedLength());
        try {
            message.encode(out);
            return ByteBufUtil.getBytes(out);
        } finally {
            out.release();
            message.release();
        }
    }

    /**
     * The input in a buffer whose capacity is its length: reading past it throws. An empty input is Netty's shared
     * empty buffer, whose reference count never changes.
     */
    private static ByteBuf exactly(byte[] input) {
        return Unpooled.buffer(input.length, input.length).writeBytes(input);
    }

    private static void assertReencodes(ControlDecoder decoder, ControlMessage message) {
        ByteBuf encoded = Unpooled.buffer(message.encodedLength(), message.encodedLength());
        try {
            message.encode(encoded);
            assertThat(encoded.readableBytes()).isEqualTo(ControlHeader.SIZE + message.payloadLength());
            ControlMessage again = decoder.decode(encoded);
            try {
                assertThat(again.type()).isEqualTo(message.type());
                assertThat(again.repeat()).isEqualTo(message.repeat());
                assertThat(again.records()).isEqualTo(message.records());
                if (message.type() == ControlType.QEMU_FILE) {
                    assertThat(ByteBufUtil.equals(again.data(), message.data())).as("QEMU FILE bytes").isTrue();
                }
            } finally {
                again.release();
            }
        } catch (ProtocolException e) {
            fail("a decoded message re-encodes to bytes its decoder refuses: " + e.getMessage(), e);
        } finally {
            encoded.release();
        }
    }
}
