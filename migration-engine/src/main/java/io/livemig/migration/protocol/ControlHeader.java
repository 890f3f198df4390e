package io.livemig.migration.protocol;

import io.netty.buffer.ByteBuf;

/**
 * {@code RDMAControlHeader}: the 16 bytes in front of every control message (spec section 3.1).
 * Layout, big-endian: {@code u32 len} (payload bytes, header excluded), {@code u32 type},
 * {@code u32 repeat}, {@code u32 padding} (sent as zero, ignored on receipt).
 *
 * @param length payload length in bytes
 * @param type message type
 * @param repeat number of same-type records (0 for QEMU FILE; garbage from QEMU older than 8.2)
 */
public record ControlHeader(int length, ControlType type, int repeat) {

    /** Encoded size in bytes. */
    public static final int SIZE = 16;
    /** Size of each control buffer: the largest SEND, header included (RDMA_CONTROL_MAX_BUFFER). */
    public static final int MAX_MESSAGE_SIZE = 512 * 1024;
    /** Largest {@code len}: 524272. */
    public static final int MAX_PAYLOAD_LENGTH = MAX_MESSAGE_SIZE - SIZE;
    /** Largest {@code repeat} a destination accepts (RDMA_CONTROL_MAX_COMMANDS_PER_MESSAGE). */
    public static final int MAX_COMMANDS_PER_MESSAGE = 4096;

    /**
     * Checks the fields.
     *
     * @throws IllegalArgumentException if {@code length} is negative or above {@link #MAX_PAYLOAD_LENGTH}
     */
    public ControlHeader {
        if (type == null) {
            throw new NullPointerException("type");
        }
        if (length < 0 || length > MAX_PAYLOAD_LENGTH) {
            throw new IllegalArgumentException("control payload length " + Integer.toUnsignedString(length)
                    + " is outside 0.." + MAX_PAYLOAD_LENGTH);
        }
    }

    /**
     * Writes the 16 bytes, padding as zero.
     *
     * @param out the destination buffer
     */
    public void encode(ByteBuf out) {
        out.writeInt(length);
        out.writeInt(type.value());
        out.writeInt(repeat);
        Wire.writePadding(out, 4);
    }

    /**
     * Reads a header from the next 16 readable bytes, ignoring the padding. Checks only what a header
     * alone can show (truncation, maximum length, known type); {@link ControlDecoder} checks a whole
     * received message.
     *
     * @param in the input
     * @return the header
     * @throws ProtocolException on truncation, a length above the maximum or an unknown type
     */
    public static ControlHeader decode(ByteBuf in) {
        Wire.requireReadable(in, SIZE, "control header");
        int length = in.readInt();
        int type = in.readInt();
        int repeat = in.readInt();
        in.skipBytes(4);
        checkLength(length);
        return new ControlHeader(length, ControlType.fromValue(type), repeat);
    }

    static void checkLength(int length) {
        if (Integer.compareUnsigned(length, MAX_PAYLOAD_LENGTH) > 0) {
            throw new ProtocolException(ProtocolError.LENGTH_TOO_LONG,
                    "control message too long: length " + Integer.toUnsignedString(length)
                            + " exceeds the maximum " + MAX_PAYLOAD_LENGTH);
        }
    }
}
