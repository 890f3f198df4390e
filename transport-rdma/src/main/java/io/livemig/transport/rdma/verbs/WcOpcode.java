package io.livemig.transport.rdma.verbs;

/** The operation a work completion reports, with the names and values of {@code enum ibv_wc_opcode}. */
public enum WcOpcode {
    /** A SEND or SEND_WITH_IMM work request completed. */
    SEND(0),
    /** An RDMA_WRITE or RDMA_WRITE_WITH_IMM work request completed. */
    RDMA_WRITE(1),
    /** An RDMA_READ work request completed. */
    RDMA_READ(2),
    /** A receive consumed by a SEND or SEND_WITH_IMM. */
    RECV(128),
    /** A receive consumed by an RDMA_WRITE_WITH_IMM (only the immediate data is delivered). */
    RECV_RDMA_WITH_IMM(129);

    private final int value;

    WcOpcode(int value) {
        this.value = value;
    }

    /**
     * The value in {@code enum ibv_wc_opcode}.
     *
     * @return the native value
     */
    public int value() {
        return value;
    }
}
