package io.livemig.migration.protocol;

import io.netty.buffer.ByteBuf;

/**
 * {@code RDMADestBlock}: one entry of RAM BLOCKS RESULT, describing a destination RAM block
 * (spec section 4.1). Layout, big-endian: {@code u64 remote_host_addr, u64 offset, u64 length,
 * u32 remote_rkey, u32 padding}. The 64-bit fields are unsigned on the wire.
 *
 * @param remoteHostAddr destination virtual address of the block start (the RDMA WRITE target base)
 * @param offset the block's offset in the destination's RAM address space ({@code ram_addr_t})
 * @param length the block's used length in bytes
 * @param remoteRkey rkey of a whole-block registration under pin-all, else 0
 */
public record RemoteBlock(long remoteHostAddr, long offset, long length, int remoteRkey) implements ControlRecord {

    /** Encoded size in bytes. */
    public static final int SIZE = 32;
    /** Most blocks one RAM BLOCKS RESULT can carry: (524288 - 16) / 32. */
    public static final int MAX_PER_MESSAGE = ControlHeader.MAX_PAYLOAD_LENGTH / SIZE;

    @Override
    public void encode(ByteBuf out) {
        out.writeLong(remoteHostAddr);
        out.writeLong(offset);
        out.writeLong(length);
        out.writeInt(remoteRkey);
        Wire.writePadding(out, 4);
    }

    @Override
    public int encodedSize() {
        return SIZE;
    }

    /**
     * Reads one block from the next 32 readable bytes, ignoring the padding.
     *
     * @param in the input
     * @return the block
     * @throws ProtocolException ({@link ProtocolError#TRUNCATED}) with fewer than 32 bytes
     */
    public static RemoteBlock decode(ByteBuf in) {
        Wire.requireReadable(in, SIZE, "RAM block (RDMADestBlock)");
        RemoteBlock block = new RemoteBlock(in.readLong(), in.readLong(), in.readLong(), in.readInt());
        in.skipBytes(4);
        return block;
    }

    @Override
    public String toString() {
        return "RemoteBlock[remoteHostAddr=0x" + Long.toHexString(remoteHostAddr) + ", offset=0x"
                + Long.toHexString(offset) + ", length=" + Long.toUnsignedString(length) + ", remoteRkey=0x"
                + Integer.toHexString(remoteRkey) + "]";
    }
}
