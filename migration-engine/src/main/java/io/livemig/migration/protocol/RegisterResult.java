package io.livemig.migration.protocol;

import io.netty.buffer.ByteBuf;

/**
 * {@code RDMARegisterResult}: one record of REGISTER RESULT (spec section 5.3). Layout, big-endian:
 * {@code u32 rkey, u32 padding, u64 host_addr}.
 *
 * @param rkey rkey of the registration covering the requested chunk(s); never 0 from a correct
 *     destination, since a QEMU source uses 0 to mean "not registered"
 * @param hostAddr destination virtual address of the block start (not of the chunk)
 */
public record RegisterResult(int rkey, long hostAddr) implements ControlRecord {

    /** Encoded size in bytes. */
    public static final int SIZE = 16;

    @Override
    public void encode(ByteBuf out) {
        out.writeInt(rkey);
        Wire.writePadding(out, 4);
        out.writeLong(hostAddr);
    }

    @Override
    public int encodedSize() {
        return SIZE;
    }

    /**
     * Reads one record from the next 16 readable bytes, ignoring the padding.
     *
     * @param in the input
     * @return the record
     * @throws ProtocolException ({@link ProtocolError#TRUNCATED}) with fewer than 16 bytes
     */
    public static RegisterResult decode(ByteBuf in) {
        Wire.requireReadable(in, SIZE, "register result (RDMARegisterResult)");
        int rkey = in.readInt();
        in.skipBytes(4);
        return new RegisterResult(rkey, in.readLong());
    }

    @Override
    public String toString() {
        return "RegisterResult[rkey=0x" + Integer.toHexString(rkey) + ", hostAddr=0x" + Long.toHexString(hostAddr)
                + "]";
    }
}
