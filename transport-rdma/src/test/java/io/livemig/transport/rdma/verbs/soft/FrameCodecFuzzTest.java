package io.livemig.transport.rdma.verbs.soft;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.livemig.testing.FuzzInputs;
import io.livemig.transport.rdma.verbs.SendOpcode;
import java.io.IOException;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Coverage-guided fuzzing of the soft TCP fabric's frame header ({@link FrameCodec}): any 48 bytes a stranger sends
 * are either refused with a {@link ProtocolException} by {@link FrameCodec#check} or {@link FrameCodec#decode}, or
 * decode to a frame that encodes back to a header decoding to the same frame. A CM message that passed the check never
 * claims more private data than {@link FrameCodec#MAX_CM_PRIVATE_DATA}, so the reader never allocates more than that.
 *
 * <p>In the normal build this runs the inputs under {@code FrameCodecFuzzTestInputs/} only; {@code scripts/fuzz.sh
 * FrameCodecFuzzTest} fuzzes it (docs/fuzzing.md).
 */
class FrameCodecFuzzTest {

    @FuzzTest
    void headerIsCheckedThenDecodedOrRefused(byte[] input) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(FrameCodec.HEADER_BYTES);
        header.put(input, 0, Math.min(input.length, FrameCodec.HEADER_BYTES)).clear();
        try {
            FrameCodec.check(header);
        } catch (ProtocolException refused) {
            return;
        }
        int payloadLength = FrameCodec.payloadLength(header);
        byte[] privateData = null;
        if (FrameCodec.isCm(header)) {
            assertThat(payloadLength).isBetween(0, FrameCodec.MAX_CM_PRIVATE_DATA);
            // The rest of the input is the private data, as far as it goes.
            privateData = Arrays.copyOfRange(input, Math.min(input.length, FrameCodec.HEADER_BYTES),
                    Math.min(input.length, FrameCodec.HEADER_BYTES + payloadLength));
        }
        Frame frame;
        try {
            frame = FrameCodec.decode(header, privateData);
        } catch (ProtocolException refused) {
            return;
        }
        ByteBuffer encoded = ByteBuffer.allocate(FrameCodec.HEADER_BYTES);
        FrameCodec.encode(frame, encoded);
        FrameCodec.check(encoded);
        Frame again = FrameCodec.decode(encoded, privateData);
        assertSameFrame(again, frame);
    }

    @Test
    void seedsAreFramesTheEncoderProduces() {
        byte[] capabilities = {0, 0, 0, 1, 0, 0, 0, 1};
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        seeds.put("cm-req", TcpWireFuzzTest.frames(
                new Frame.CmMessage(Frame.CmMessageType.REQ, 7, 0x1234, 0, capabilities)));
        seeds.put("cm-rej", TcpWireFuzzTest.frames(new Frame.CmMessage(Frame.CmMessageType.REJ, 0, 0, 28, null)));
        seeds.put("rdma-write", TcpWireFuzzTest.frames(
                new Frame.RcRequest(SendOpcode.RDMA_WRITE_WITH_IMM, 2, 0x7F0000001000L, 0x42, 8, 0x1234)));
        seeds.put("read-response", TcpWireFuzzTest.frames(
                new Frame.RcResponse(Frame.ResponseKind.READ_RESPONSE, 3, null, 4)));
        seeds.put("nak", TcpWireFuzzTest.frames(Frame.RcResponse.nak(3, Frame.NakCode.RNR)));
        FuzzInputs.check(getClass(), "headerIsCheckedThenDecodedOrRefused", seeds);
    }

    /** Records compare arrays by reference: compare a CM message's private data by content. */
    private static void assertSameFrame(Frame actual, Frame expected) {
        if (expected instanceof Frame.CmMessage cm) {
            assertThat(actual).isInstanceOfSatisfying(Frame.CmMessage.class, m -> {
                assertThat(m.type()).isEqualTo(cm.type());
                assertThat(m.qpNumber()).isEqualTo(cm.qpNumber());
                assertThat(m.initialPsn()).isEqualTo(cm.initialPsn());
                assertThat(m.status()).isEqualTo(cm.status());
                assertThat(m.privateData()).isEqualTo(cm.privateData());
            });
        } else {
            assertThat(actual).isEqualTo(expected);
        }
    }
}
