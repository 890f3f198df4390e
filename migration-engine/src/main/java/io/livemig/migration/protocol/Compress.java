package io.livemig.migration.protocol;

import io.netty.buffer.ByteBuf;

/**
 * {@code RDMACompress}: the payload of COMPRESS, a range the destination fills itself (spec section
 * 6.1). Layout, big-endian: {@code u32 value, u32 block_idx, u64 offset, u64 length}.
 *
 * @param value the fill byte; always 0 from QEMU, and a QEMU destination rejects anything else
 * @param blockIndex the RAM block index
 * @param offset despite its name, the address in the destination's RAM address space
 *     ({@link Chunks#toWireAddress}), not an offset inside the block
 * @param length bytes to fill (a whole number of target pages)
 */
public record Compress(int value, int blockIndex, long offset, long length) implements ControlRecord {

    /** Encoded size in bytes. */
    public static final int SIZE = 24;

    /**
     * A zero range, the only kind QEMU sends.
     *
     * @param blockIndex the RAM block index
     * @param wireAddress the range start in the destination's RAM address space
     * @param length bytes to zero
     * @return the record
     */
    public static Compress zero(int blockIndex, long wireAddress, long length) {
        return new Compress(0, blockIndex, wireAddress, length);
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeInt(value);
        out.writeInt(blockIndex);
        out.writeLong(offset);
        out.writeLong(length);
    }

    @Override
    public int encodedSize() {
        return SIZE;
    }

    /**
     * Reads the record from the next 24 readable bytes.
     *
     * @param in the input
     * @return the record
     * @throws ProtocolException ({@link ProtocolError#TRUNCATED}) with fewer than 24 bytes
     */
    public static Compress decode(ByteBuf in) {
        Wire.requireReadable(in, SIZE, "compress record (RDMACompress)");
        return new Compress(in.readInt(), in.readInt(), in.readLong(), in.readLong());
    }

    @Override
    public String toString() {
        return "Compress[value=" + Integer.toUnsignedString(value) + ", blockIndex=" + blockIndex + ", offset=0x"
                + Long.toHexString(offset) + ", length=" + Long.toUnsignedString(length) + "]";
    }
}
