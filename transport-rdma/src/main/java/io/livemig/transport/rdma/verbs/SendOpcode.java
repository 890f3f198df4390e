package io.livemig.transport.rdma.verbs;

/** Send work request operations ({@code enum ibv_wr_opcode}, the subset RC migration uses). */
public enum SendOpcode {
    /** {@code IBV_WR_RDMA_WRITE}: place the gathered bytes at the remote address. */
    RDMA_WRITE(0, WcOpcode.RDMA_WRITE),
    /** {@code IBV_WR_RDMA_WRITE_WITH_IMM}: as RDMA_WRITE, then consume a remote receive carrying the immediate. */
    RDMA_WRITE_WITH_IMM(1, WcOpcode.RDMA_WRITE),
    /** {@code IBV_WR_SEND}: consume the oldest receive posted on the peer. */
    SEND(2, WcOpcode.SEND),
    /** {@code IBV_WR_SEND_WITH_IMM}: as SEND, with 32 bits of immediate data in the receive completion. */
    SEND_WITH_IMM(3, WcOpcode.SEND),
    /** {@code IBV_WR_RDMA_READ}: fetch remote bytes into the local SGE list. */
    RDMA_READ(4, WcOpcode.RDMA_READ);

    private final int value;
    private final WcOpcode completionOpcode;

    SendOpcode(int value, WcOpcode completionOpcode) {
        this.value = value;
        this.completionOpcode = completionOpcode;
    }

    /**
     * The value in {@code enum ibv_wr_opcode}.
     *
     * @return the native value
     */
    public int value() {
        return value;
    }

    /**
     * The opcode the sender's work completion reports.
     *
     * @return the completion opcode
     */
    public WcOpcode completionOpcode() {
        return completionOpcode;
    }

    /**
     * Whether the operation names remote memory (address and rkey).
     *
     * @return {@code true} for RDMA WRITE and READ
     */
    public boolean isRdma() {
        return this == RDMA_WRITE || this == RDMA_WRITE_WITH_IMM || this == RDMA_READ;
    }

    /**
     * Whether the operation carries immediate data.
     *
     * @return {@code true} for the {@code _WITH_IMM} variants
     */
    public boolean hasImmediate() {
        return this == SEND_WITH_IMM || this == RDMA_WRITE_WITH_IMM;
    }
}
