package io.livemig.migration.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every record and whole-message vector of spec section 13.3 to 13.6, in both directions. */
class ControlMessageVectorsTest {

    private static final String BLOCK_A = "00007f12 34000000 00000000 00000000 00000001 00000000 00001a2b 00000000";
    private static final String BLOCK_B = "00007f13 00200000 00000001 00000000 00000000 00040000 00000000 00000000";
    private static final RemoteBlock A = new RemoteBlock(0x00007F1234000000L, 0, 4L << 30, 0x1A2B);
    private static final RemoteBlock B = new RemoteBlock(0x00007F1300200000L, 0x100000000L, 256 << 10, 0);

    @Test
    void remoteBlockVectors() {
        assertThat(Hex.encode(A::encode)).isEqualTo(Hex.plain(BLOCK_A));
        assertThat(Hex.encode(B::encode)).isEqualTo(Hex.plain(BLOCK_B));
        assertThat(RemoteBlock.decode(Hex.buf(BLOCK_A))).isEqualTo(A);
        assertThat(RemoteBlock.decode(Hex.buf(BLOCK_B))).isEqualTo(B);
    }

    @Test
    void ramBlocksResultMessage() {
        String wire = "00000040 00000005 00000001 00000000 " + BLOCK_A + " " + BLOCK_B;
        assertEncodesTo(ControlMessage.ramBlocksResult(List.of(A, B)), wire);
        ControlMessage decoded = ControlDecoder.forSource().decode(Hex.buf(wire));
        assertThat(decoded.type()).isEqualTo(ControlType.RAM_BLOCKS_RESULT);
        assertThat(decoded.remoteBlocks()).containsExactly(A, B);
        assertThat(decoded.release()).isTrue();
    }

    @Test
    void registerRequestVectors() {
        RegisterRequest first = new RegisterRequest(0x345000, 0, 0);
        RegisterRequest second = new RegisterRequest(0x100001000L, 3, 0);
        assertThat(Hex.encode(first::encode)).isEqualTo("000000000034500000000000000000000000000000000000");
        assertThat(Hex.encode(second::encode)).isEqualTo("000000010000100000000003000000000000000000000000");
        assertThat(RegisterRequest.decode(Hex.buf("00000000 00345000 00000000 00000000 00000000 00000000")))
                .isEqualTo(first);
        // Bytes 12-15 may be garbage from QEMU: ignored.
        assertThat(RegisterRequest.decode(Hex.buf("00000001 00001000 00000003 deadbeef 00000000 00000000")))
                .isEqualTo(second);
        assertThat(Chunks.index(first.key())).isEqualTo(3);
        assertThat(Chunks.toWireAddress(0x100000000L, 0x1000, 0)).isEqualTo(second.key());
    }

    @Test
    void registerRequestMessage() {
        String wire = "00000018 00000007 00000001 00000000 00000000 00345000 00000000 00000000 00000000 00000000";
        assertEncodesTo(ControlMessage.registerRequest(List.of(new RegisterRequest(0x345000, 0, 0))), wire);
        ControlMessage decoded = ControlDecoder.forDestination().decode(Hex.buf(wire));
        assertThat(decoded.registerRequests()).containsExactly(new RegisterRequest(0x345000, 0, 0));
        decoded.release();
    }

    @Test
    void registerResultVectors() {
        RegisterResult result = new RegisterResult(0x00012345, 0x00007F1234000000L);
        assertThat(Hex.encode(result::encode)).isEqualTo("0001234500000000" + "00007f1234000000");
        assertThat(RegisterResult.decode(Hex.buf("00012345 00000000 00007f12 34000000"))).isEqualTo(result);

        String wire = "00000010 00000008 00000001 00000000 00012345 00000000 00007f12 34000000";
        assertEncodesTo(ControlMessage.registerResult(List.of(result)), wire);
        ControlMessage decoded = ControlDecoder.forSource().decode(Hex.buf(wire));
        assertThat(decoded.registerResults()).containsExactly(result);
        decoded.release();
    }

    @Test
    void compressVectors() {
        Compress first = Compress.zero(0, 0x200000, 1 << 20);
        assertThat(Hex.encode(first::encode)).isEqualTo(Hex.plain(
                "00000000 00000000 00000000 00200000 00000000 00100000"));
        String wire = "00000018 00000006 00000001 00000000 00000000 00000000 00000000 00200000 00000000 00100000";
        assertEncodesTo(ControlMessage.compress(first), wire);
        ControlMessage decoded = ControlDecoder.forDestination().decode(Hex.buf(wire));
        assertThat(decoded.compress()).isEqualTo(first);
        decoded.release();

        Compress second = Compress.zero(2, Chunks.toWireAddress(0x100000000L, 0x7000, 0), 3 * 4096);
        assertThat(Hex.encode(second::encode)).isEqualTo(Hex.plain(
                "00000000 00000002 00000001 00007000 00000000 00003000"));
        assertThat(Compress.decode(Hex.buf("00000000 00000002 00000001 00007000 00000000 00003000")))
                .isEqualTo(second);
    }

    @Test
    void signalMessagesMatchTheirHeaders() {
        assertEncodesTo(ControlMessage.ready(), "00000000 00000002 00000001 00000000");
        assertEncodesTo(ControlMessage.error(), "00000000 00000001 00000001 00000000");
        assertEncodesTo(ControlMessage.ramBlocksRequest(), "00000000 00000004 00000001 00000000");
        assertEncodesTo(ControlMessage.registerFinished(), "00000000 00000009 00000001 00000000");
        assertEncodesTo(ControlMessage.unregisterFinished(1), "00000000 0000000b 00000001 00000000");
        assertEncodesTo(ControlMessage.unregisterRequest(List.of(new RegisterRequest(5, 1, 0))),
                "00000018 0000000a 00000001 00000000 00000000 00000005 00000001 00000000 00000000 00000000");
    }

    @Test
    void firstQemuFileMessageCarriesTheStreamMagic() {
        String wire = "00000008 00000003 00000000 00000000 5145564d 00000003";
        ByteBuf stream = Unpooled.buffer(8);
        stream.writeInt(VmStateStream.MAGIC).writeInt(VmStateStream.VERSION);
        ControlMessage message = ControlMessage.qemuFile(stream);
        try {
            assertEncodesTo(message, wire);
        } finally {
            message.release();
        }
        assertThat(stream.refCnt()).isZero();

        ControlMessage decoded = ControlDecoder.forDestination().decode(Hex.buf(wire));
        try {
            assertThat(decoded.type()).isEqualTo(ControlType.QEMU_FILE);
            assertThat(ByteBufUtil.hexDump(decoded.data())).isEqualTo("5145564d00000003");
        } finally {
            assertThat(decoded.release()).isTrue();
        }
    }

    @Test
    void qemuFilePayloadIsASliceOfTheReceivedBufferNotACopy() {
        ByteBuf received = Hex.buf("00000002 00000003 00000000 00000000 abcd");
        ControlMessage decoded = ControlDecoder.forDestination().decode(received);
        assertThat(received.refCnt()).isEqualTo(2);
        received.setByte(16, 0x11);
        assertThat(decoded.data().getByte(0)).isEqualTo((byte) 0x11);
        decoded.release();
        assertThat(received.refCnt()).isEqualTo(1);
        received.release();
    }

    private static void assertEncodesTo(ControlMessage message, String hex) {
        assertThat(Hex.encode(message::encode)).isEqualTo(Hex.plain(hex));
        assertThat(message.encodedLength()).isEqualTo(Hex.plain(hex).length() / 2);
    }
}
