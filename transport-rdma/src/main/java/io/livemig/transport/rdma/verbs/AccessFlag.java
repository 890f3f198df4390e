package io.livemig.transport.rdma.verbs;

/**
 * Memory-region access rights ({@code enum ibv_access_flags}). Local read access is always granted.
 * As {@code man ibv_reg_mr} requires, {@link #REMOTE_WRITE} needs {@link #LOCAL_WRITE}.
 */
public enum AccessFlag {
    /** {@code IBV_ACCESS_LOCAL_WRITE}: receives and READ responses may be placed into the region. */
    LOCAL_WRITE(1),
    /** {@code IBV_ACCESS_REMOTE_WRITE}: a peer may RDMA WRITE into the region with its rkey. */
    REMOTE_WRITE(2),
    /** {@code IBV_ACCESS_REMOTE_READ}: a peer may RDMA READ from the region with its rkey. */
    REMOTE_READ(4);

    private final int value;

    AccessFlag(int value) {
        this.value = value;
    }

    /**
     * The bit this flag has in {@code enum ibv_access_flags}.
     *
     * @return the native bit value
     */
    public int value() {
        return value;
    }
}
