package io.livemig.migration.control;

import io.livemig.migration.protocol.Compress;
import io.livemig.migration.protocol.ControlDecoder;
import io.livemig.migration.protocol.ControlMessage;
import io.livemig.migration.protocol.RegisterRequest;
import io.livemig.migration.protocol.RegisterResult;
import io.livemig.migration.protocol.RemoteBlock;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.util.List;
import java.util.function.Supplier;

/**
 * The whole-message test vectors of spec section 13 (the ones protocol's ControlMessageVectorsTest checks
 * against the codec), one per message type, for the channel handler tests.
 */
final class ControlVectors {

    /**
     * One message on the wire.
     *
     * @param name what it is
     * @param hex the wire bytes, in groups of 4 bytes
     * @param message a fresh message that encodes to those bytes (the encoder releases what it writes)
     * @param receiver the decoder of the side that receives this type on the main connection
     */
    record Vector(String name, String hex, Supplier<ControlMessage> message, ControlDecoder receiver) {

        /** The wire bytes in an unpooled buffer. */
        ByteBuf wire() {
            return Unpooled.wrappedBuffer(ByteBufUtil.decodeHexDump(plain()));
        }

        /** The wire bytes as lowercase hex without separators. */
        String plain() {
            return hex.replace(" ", "");
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static final String BLOCK_A = "00007f12 34000000 00000000 00000000 00000001 00000000 00001a2b 00000000";
    static final String BLOCK_B = "00007f13 00200000 00000001 00000000 00000000 00040000 00000000 00000000";
    static final RemoteBlock A = new RemoteBlock(0x00007F1234000000L, 0, 4L << 30, 0x1A2B);
    static final RemoteBlock B = new RemoteBlock(0x00007F1300200000L, 0x100000000L, 256 << 10, 0);

    /** A maximum QEMU FILE payload: 32768 bytes counting up. */
    static byte[] maxQemuFilePayload() {
        byte[] payload = new byte[ControlMessage.MAX_QEMU_FILE_PAYLOAD];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) i;
        }
        return payload;
    }

    /** Every type a peer sends, with the receiving side's decoder. */
    static final List<Vector> ALL = List.of(
            new Vector("READY", "00000000 00000002 00000001 00000000", ControlMessage::ready,
                    ControlDecoder.forSource()),
            new Vector("ERROR", "00000000 00000001 00000001 00000000", ControlMessage::error,
                    ControlDecoder.forDestination()),
            new Vector("RAM BLOCKS REQUEST", "00000000 00000004 00000001 00000000", ControlMessage::ramBlocksRequest,
                    ControlDecoder.forDestination()),
            new Vector("RAM BLOCKS RESULT", "00000040 00000005 00000001 00000000 " + BLOCK_A + " " + BLOCK_B,
                    () -> ControlMessage.ramBlocksResult(List.of(A, B)), ControlDecoder.forSource()),
            new Vector("COMPRESS", "00000018 00000006 00000001 00000000 "
                    + "00000000 00000000 00000000 00200000 00000000 00100000",
                    () -> ControlMessage.compress(Compress.zero(0, 0x200000, 1 << 20)),
                    ControlDecoder.forDestination()),
            new Vector("REGISTER REQUEST", "00000018 00000007 00000001 00000000 "
                    + "00000000 00345000 00000000 00000000 00000000 00000000",
                    () -> ControlMessage.registerRequest(List.of(new RegisterRequest(0x345000, 0, 0))),
                    ControlDecoder.forDestination()),
            new Vector("REGISTER RESULT", "00000010 00000008 00000001 00000000 00012345 00000000 00007f12 34000000",
                    () -> ControlMessage.registerResult(List.of(new RegisterResult(0x00012345, 0x00007F1234000000L))),
                    ControlDecoder.forSource()),
            new Vector("REGISTER FINISHED", "00000000 00000009 00000001 00000000", ControlMessage::registerFinished,
                    ControlDecoder.forDestination()),
            new Vector("UNREGISTER REQUEST", "00000018 0000000a 00000001 00000000 "
                    + "00000000 00000005 00000001 00000000 00000000 00000000",
                    () -> ControlMessage.unregisterRequest(List.of(new RegisterRequest(5, 1, 0))),
                    ControlDecoder.forDestination()),
            new Vector("UNREGISTER FINISHED", "00000000 0000000b 00000001 00000000",
                    () -> ControlMessage.unregisterFinished(1), ControlDecoder.forSource()),
            new Vector("QEMU FILE with the stream magic", "00000008 00000003 00000000 00000000 5145564d 00000003",
                    () -> ControlMessage.qemuFile(Unpooled.buffer(8).writeInt(0x5145564D).writeInt(3)),
                    ControlDecoder.forDestination()),
            new Vector("QEMU FILE, maximum", "00008000 00000003 00000000 00000000 "
                    + ByteBufUtil.hexDump(maxQemuFilePayload()),
                    () -> ControlMessage.qemuFile(Unpooled.wrappedBuffer(maxQemuFilePayload())),
                    ControlDecoder.forDestination()));

    private ControlVectors() {
    }
}
