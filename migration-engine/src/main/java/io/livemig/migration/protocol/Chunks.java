package io.livemig.migration.protocol;

/**
 * QEMU's chunk arithmetic (spec sections 4.3 and 5.1). Memory is registered in 1 MiB chunks numbered
 * from each block's start, identically on both sides; addresses in REGISTER REQUEST and COMPRESS are
 * in the destination's RAM address space.
 */
public final class Chunks {

    /** log2 of the chunk size (RDMA_REG_CHUNK_SHIFT). */
    public static final int SHIFT = 20;
    /** Chunk size: 1 MiB. */
    public static final long SIZE = 1L << SHIFT;

    private Chunks() {
    }

    /**
     * The chunk holding a byte.
     *
     * @param offsetInBlock byte offset from the block start
     * @return {@code offset >> 20}
     */
    public static long index(long offsetInBlock) {
        requireNonNegative(offsetInBlock, "offset in block");
        return offsetInBlock >>> SHIFT;
    }

    /**
     * How many chunks QEMU allots a block: {@code (length >> 20) + 1}, one more than needed when the
     * length is a whole number of MiB (the last chunk is then empty).
     *
     * @param blockLength the block's used length
     * @return the chunk count
     */
    public static long count(long blockLength) {
        requireNonNegative(blockLength, "block length");
        return (blockLength >>> SHIFT) + 1;
    }

    /**
     * First byte of a chunk.
     *
     * @param blockBase the block's start address
     * @param index the chunk index
     * @return {@code base + (index << 20)}
     */
    public static long start(long blockBase, long index) {
        requireNonNegative(index, "chunk index");
        return blockBase + (index << SHIFT);
    }

    /**
     * One past the last byte of a chunk: the chunk's start plus 1 MiB, clipped to the block end.
     *
     * @param blockBase the block's start address
     * @param blockLength the block's used length
     * @param index the chunk index
     * @return the exclusive end address
     */
    public static long end(long blockBase, long blockLength, long index) {
        return Math.min(start(blockBase, index) + SIZE, blockBase + blockLength);
    }

    /**
     * The {@code chunks} field of a REGISTER REQUEST for one write: {@code length / 1 MiB}, minus one
     * when that is non-zero and the length is a whole number of MiB. The request then covers chunks
     * {@code [chunk, chunk + chunks]}. Writes never cross a chunk boundary, so this is 0 in practice.
     *
     * @param writeLength the merged write's length in bytes
     * @return the number of additional chunks
     */
    public static long chunksField(long writeLength) {
        requireNonNegative(writeLength, "write length");
        long n = writeLength / SIZE;
        if (n != 0 && writeLength % SIZE == 0) {
            n--;
        }
        return n;
    }

    /**
     * Translates a source address into the destination's RAM address space:
     * {@code destBlockOffset + (sourceAddr - sourceBlockOffset)}.
     *
     * @param destBlockOffset the block's offset at the destination ({@link RemoteBlock#offset()})
     * @param sourceAddr the address in the source's RAM address space
     * @param sourceBlockOffset the block's offset at the source
     * @return the address to put on the wire
     */
    public static long toWireAddress(long destBlockOffset, long sourceAddr, long sourceBlockOffset) {
        if (sourceAddr < sourceBlockOffset) {
            throw new IllegalArgumentException("source address 0x" + Long.toHexString(sourceAddr)
                    + " lies before its block's offset 0x" + Long.toHexString(sourceBlockOffset));
        }
        return destBlockOffset + (sourceAddr - sourceBlockOffset);
    }

    /**
     * The destination's inverse of {@link #toWireAddress}: the byte offset inside the block a wire
     * address names, checked against the block's bounds (QEMU checks only the lower bound; this also
     * checks the upper one).
     *
     * @param wireAddress the address from REGISTER REQUEST or COMPRESS
     * @param blockOffset the block's offset in the destination's RAM address space
     * @param blockLength the block's used length
     * @param rangeLength bytes that must fit from that address on (0 to check the address alone)
     * @return the offset inside the block
     * @throws ProtocolException ({@link ProtocolError#INVALID_FIELD}) when the range leaves the block
     */
    public static long offsetInBlock(long wireAddress, long blockOffset, long blockLength, long rangeLength) {
        if (Long.compareUnsigned(wireAddress, blockOffset) < 0) {
            throw new ProtocolException(ProtocolError.INVALID_FIELD, "bad register address 0x"
                    + Long.toHexString(wireAddress) + ": below the block's offset 0x" + Long.toHexString(blockOffset));
        }
        long offset = wireAddress - blockOffset;
        if (Long.compareUnsigned(offset, blockLength) > 0
                || Long.compareUnsigned(rangeLength, blockLength - offset) > 0) {
            throw new ProtocolException(ProtocolError.INVALID_FIELD, "address range 0x" + Long.toHexString(wireAddress)
                    + " + " + Long.toUnsignedString(rangeLength) + " leaves the block [0x" + Long.toHexString(blockOffset)
                    + ", 0x" + Long.toHexString(blockOffset + blockLength) + ")");
        }
        return offset;
    }

    private static void requireNonNegative(long value, String what) {
        if (value < 0) {
            throw new IllegalArgumentException(what + " must not be negative: " + value);
        }
    }
}
