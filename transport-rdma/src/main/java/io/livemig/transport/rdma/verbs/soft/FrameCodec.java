package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.verbs.SendOpcode;
import java.io.IOException;
import java.net.ProtocolException;
import java.nio.ByteBuffer;

/**
 * The TCP fabric's frame header: 48 bytes, big-endian, followed by {@code payloadLength} payload bytes.
 *
 * <pre>
 *  0  u8  kind (0 CM, 1 request, 2 response)     1  u8 type (message, opcode or response kind)
 *  2  u8  NAK code + 1 (0 = none)                 3  u8 reserved
 *  4  u32 payload length                          8  u64 PSN (CM: initial PSN)
 * 16  u64 remote address                         24  u32 rkey
 * 28  u32 DMA length                             32  u32 immediate data
 * 36  u32 QP number                              40  i32 status
 * 44  u32 magic "LMRC"
 * </pre>
 */
final class FrameCodec {

    /** How a header without the magic is refused; a connecting side's CM tells its peer is none (EPROTO). */
    static final String NOT_A_SOFT_FRAME = "not a livemig soft frame";


    static final int HEADER_BYTES = 48;
    /**
     * The most private data a CM message may carry: what every soft CM call accepts (the IB CM REQ's 56 bytes, also
     * applied to REP and REJ). A header claiming more is refused before anything is allocated for it.
     */
    static final int MAX_CM_PRIVATE_DATA = 56;
    private static final int MAGIC = 0x4C4D5243;
    private static final SendOpcode[] OPCODES = SendOpcode.values();
    private static final Frame.CmMessageType[] CM_TYPES = Frame.CmMessageType.values();
    private static final Frame.ResponseKind[] RESPONSES = Frame.ResponseKind.values();
    private static final Frame.NakCode[] NAKS = Frame.NakCode.values();

    private FrameCodec() {
    }

    static void encode(Frame frame, ByteBuffer header) {
        header.clear();
        switch (frame) {
            case Frame.CmMessage m -> put(header, 0, m.type().ordinal(), 0, m.payloadLength(), m.initialPsn(), 0, 0, 0,
                    0, m.qpNumber(), m.status());
            case Frame.RcRequest r -> put(header, 1, r.opcode().ordinal(), 0, r.payloadLength(), r.psn(),
                    r.remoteAddress(), r.rkey(), r.dmaLength(), r.immediateData(), 0, 0);
            case Frame.RcResponse r -> put(header, 2, r.kind().ordinal(), r.nak() == null ? 0 : r.nak().ordinal() + 1,
                    r.payloadLength(), r.psn(), 0, 0, r.length(), 0, 0, 0);
        }
        header.flip();
    }

    private static void put(ByteBuffer header, int kind, int type, int nak, int payloadLength, long psn,
                            long remoteAddress, int rkey, int dmaLength, int immediate, int qpNumber, int status) {
        header.put((byte) kind).put((byte) type).put((byte) nak).put((byte) 0).putInt(payloadLength).putLong(psn)
                .putLong(remoteAddress).putInt(rkey).putInt(dmaLength).putInt(immediate).putInt(qpNumber)
                .putInt(status).putInt(MAGIC);
    }

    /**
     * Decodes a complete header that passed {@link #check} (magic, kind and private-data length are not checked
     * again); CM messages get their private data from {@code privateData}.
     *
     * @throws ProtocolException when the type is unknown for its kind
     */
    static Frame decode(ByteBuffer header, byte[] privateData) throws IOException {
        int kind = header.get(0);
        int type = header.get(1);
        int nak = header.get(2);
        long psn = header.getLong(8);
        try {
            return switch (kind) {
                case 0 -> new Frame.CmMessage(CM_TYPES[type], header.getInt(36), psn, header.getInt(40), privateData);
                case 1 -> new Frame.RcRequest(OPCODES[type], psn, header.getLong(16), header.getInt(24),
                        header.getInt(28), header.getInt(32));
                case 2 -> new Frame.RcResponse(RESPONSES[type], psn, nak == 0 ? null : NAKS[nak - 1], header.getInt(28));
                default -> throw new ProtocolException("unknown frame kind " + kind);
            };
        } catch (ArrayIndexOutOfBoundsException e) {
            throw new ProtocolException("unknown frame type " + type + " of kind " + kind);
        }
    }

    /**
     * Checks a header read from the network before its payload is read or anything is allocated for it: the magic
     * first (a stranger's bytes say nothing about lengths), then the kind, and for a CM message the private data's
     * length.
     *
     * @param header the complete header
     * @throws ProtocolException when the header is not a soft frame this end can take
     */
    static void check(ByteBuffer header) throws ProtocolException {
        if (header.getInt(44) != MAGIC) {
            throw new ProtocolException(NOT_A_SOFT_FRAME + " (magic 0x" + Integer.toHexString(header.getInt(44))
                    + ", expected 0x" + Integer.toHexString(MAGIC) + ")");
        }
        int kind = header.get(0);
        if (kind < 0 || kind > 2) {
            throw new ProtocolException("unknown frame kind " + kind);
        }
        int length = payloadLength(header);
        if (kind == 0 && (length < 0 || length > MAX_CM_PRIVATE_DATA)) {
            throw new ProtocolException("CM message with " + Integer.toUnsignedLong(length)
                    + " bytes of private data (at most " + MAX_CM_PRIVATE_DATA + ")");
        }
    }

    static int payloadLength(ByteBuffer header) {
        return header.getInt(4);
    }

    static boolean isCm(ByteBuffer header) {
        return header.get(0) == 0;
    }
}
