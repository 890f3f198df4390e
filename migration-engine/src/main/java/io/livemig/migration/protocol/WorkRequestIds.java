package io.livemig.migration.protocol;

/**
 * QEMU's 64-bit work-request id layout (spec section 3.5): bits 0-15 type, bits 16-29 RAM block index,
 * bits 30-63 chunk. Local only, never on the wire; livemig uses it so that traces and completions read
 * the same as QEMU's.
 */
public final class WorkRequestIds {

    /** Type of an RDMA WRITE of a chunk (block and chunk packed in). */
    public static final int RDMA_WRITE = 1;
    /** wr_id of a control SEND. */
    public static final long SEND_CONTROL = 2000;
    /** wr_id of the receive in control slot {@code n} is {@code RECV_CONTROL + n}. */
    public static final long RECV_CONTROL = 4000;
    /** Receive slot 0: READY on the source, any unsolicited message on the destination. */
    public static final int READY_SLOT = 0;
    /** Receive slot 1: a response the source waits for. */
    public static final int DATA_SLOT = 1;
    /** Blocks addressable in a wr_id: 14 bits. */
    public static final int MAX_BLOCKS = 1 << 14;
    /** Chunks addressable in a wr_id: 34 bits. */
    public static final long MAX_CHUNKS = 1L << 34;

    private static final int BLOCK_SHIFT = 16;
    private static final int CHUNK_SHIFT = 30;

    private WorkRequestIds() {
    }

    /**
     * The wr_id of an RDMA WRITE to a chunk.
     *
     * @param blockIndex RAM block index, below {@link #MAX_BLOCKS}
     * @param chunk chunk index, below {@link #MAX_CHUNKS}
     * @return {@code 1 | blockIndex << 16 | chunk << 30}
     */
    public static long rdmaWrite(int blockIndex, long chunk) {
        if (blockIndex < 0 || blockIndex >= MAX_BLOCKS) {
            throw new IllegalArgumentException("block index " + blockIndex + " does not fit 14 bits");
        }
        if (chunk < 0 || chunk >= MAX_CHUNKS) {
            throw new IllegalArgumentException("chunk " + chunk + " does not fit 34 bits");
        }
        return RDMA_WRITE | ((long) blockIndex << BLOCK_SHIFT) | (chunk << CHUNK_SHIFT);
    }

    /**
     * The wr_id of a control receive.
     *
     * @param slot {@link #READY_SLOT} or {@link #DATA_SLOT}
     * @return {@code 4000 + slot}
     */
    public static long receiveControl(int slot) {
        if (slot != READY_SLOT && slot != DATA_SLOT) {
            throw new IllegalArgumentException("control receive slot must be 0 or 1, not " + slot);
        }
        return RECV_CONTROL + slot;
    }

    /**
     * The type bits of a wr_id.
     *
     * @param wrId the wr_id
     * @return bits 0-15
     */
    public static int type(long wrId) {
        return (int) (wrId & 0xFFFF);
    }

    /**
     * The block index bits of a wr_id.
     *
     * @param wrId the wr_id
     * @return bits 16-29
     */
    public static int blockIndex(long wrId) {
        return (int) ((wrId >>> BLOCK_SHIFT) & (MAX_BLOCKS - 1));
    }

    /**
     * The chunk bits of a wr_id.
     *
     * @param wrId the wr_id
     * @return bits 30-63
     */
    public static long chunk(long wrId) {
        return wrId >>> CHUNK_SHIFT;
    }
}
