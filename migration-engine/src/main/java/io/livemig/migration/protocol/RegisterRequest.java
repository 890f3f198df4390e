package io.livemig.migration.protocol;

import io.netty.buffer.ByteBuf;

/**
 * {@code RDMARegister}: one record of REGISTER REQUEST or UNREGISTER REQUEST (spec section 5.2).
 * Layout, big-endian: {@code u64 key, u32 current_index, u32 padding, u64 chunks}. QEMU leaves the
 * padding uninitialised in REGISTER REQUEST, so it is ignored on receipt.
 *
 * @param key for REGISTER REQUEST the address in the destination's RAM address space
 *     ({@link Chunks#toWireAddress}); for UNREGISTER REQUEST the chunk number
 * @param currentIndex the RAM block index (source table order = destination's sorted order)
 * @param chunks how many further sequential chunks the request covers (usually 0; see
 *     {@link Chunks#chunksField(long)})
 */
public record RegisterRequest(long key, int currentIndex, long chunks) implements ControlRecord {

    /** Encoded size in bytes. */
    public static final int SIZE = 24;

    @Override
    public void encode(ByteBuf out) {
        out.writeLong(key);
        out.writeInt(currentIndex);
        Wire.writePadding(out, 4);
        out.writeLong(chunks);
    }

    @Override
    public int encodedSize() {
        return SIZE;
    }

    /**
     * Reads one record from the next 24 readable bytes, ignoring the padding.
     *
     * @param in the input
     * @return the record
     * @throws ProtocolException ({@link ProtocolError#TRUNCATED}) with fewer than 24 bytes
     */
    public static RegisterRequest decode(ByteBuf in) {
        Wire.requireReadable(in, SIZE, "register record (RDMARegister)");
        long key = in.readLong();
        int index = in.readInt();
        in.skipBytes(4);
        return new RegisterRequest(key, index, in.readLong());
    }

    @Override
    public String toString() {
        return "RegisterRequest[key=0x" + Long.toHexString(key) + ", currentIndex=" + currentIndex + ", chunks="
                + Long.toUnsignedString(chunks) + "]";
    }
}
