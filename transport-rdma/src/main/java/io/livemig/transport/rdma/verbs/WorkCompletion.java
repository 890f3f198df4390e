package io.livemig.transport.rdma.verbs;

/**
 * One work completion ({@code struct ibv_wc}). Instances are mutable slots that {@link CompletionQueue#poll}
 * overwrites, so an event loop polls into the same array forever; copy the values out before the next poll.
 *
 * <p>As in verbs, only {@link #wrId()}, {@link #status()} and {@link #qpNumber()} are meaningful when the status is
 * not {@link WcStatus#SUCCESS}.
 */
public final class WorkCompletion {

    private long wrId;
    private WcStatus status = WcStatus.SUCCESS;
    private WcOpcode opcode = WcOpcode.SEND;
    private int byteLength;
    private int immediateData;
    private boolean hasImmediate;
    private int qpNumber;

    /** Creates an empty slot. */
    public WorkCompletion() {
    }

    /**
     * Creates an array of empty slots.
     *
     * @param count the number of slots
     * @return the array
     */
    public static WorkCompletion[] array(int count) {
        WorkCompletion[] completions = new WorkCompletion[count];
        for (int i = 0; i < count; i++) {
            completions[i] = new WorkCompletion();
        }
        return completions;
    }

    /**
     * Overwrites every field; used by providers.
     *
     * @param wrId the work request id
     * @param status the status
     * @param opcode the operation
     * @param byteLength bytes received (receives and READs)
     * @param immediateData the immediate data in host order
     * @param hasImmediate whether immediate data is present ({@code IBV_WC_WITH_IMM})
     * @param qpNumber the local queue pair number
     * @return this slot
     */
    public WorkCompletion set(long wrId, WcStatus status, WcOpcode opcode, int byteLength, int immediateData,
                              boolean hasImmediate, int qpNumber) {
        this.wrId = wrId;
        this.status = status;
        this.opcode = opcode;
        this.byteLength = byteLength;
        this.immediateData = immediateData;
        this.hasImmediate = hasImmediate;
        this.qpNumber = qpNumber;
        return this;
    }

    /**
     * The id the work request was posted with.
     *
     * @return {@code wr_id}
     */
    public long wrId() {
        return wrId;
    }

    /**
     * The outcome.
     *
     * @return {@code status}
     */
    public WcStatus status() {
        return status;
    }

    /**
     * The operation.
     *
     * @return {@code opcode}
     */
    public WcOpcode opcode() {
        return opcode;
    }

    /**
     * The number of bytes transferred into a receive or by a READ.
     *
     * @return {@code byte_len}
     */
    public int byteLength() {
        return byteLength;
    }

    /**
     * The immediate data, in host byte order.
     *
     * @return {@code imm_data}, 0 when absent
     */
    public int immediateData() {
        return immediateData;
    }

    /**
     * Whether the completion carries immediate data.
     *
     * @return {@code wc_flags & IBV_WC_WITH_IMM}
     */
    public boolean hasImmediate() {
        return hasImmediate;
    }

    /**
     * The local queue pair the work request belonged to.
     *
     * @return {@code qp_num}
     */
    public int qpNumber() {
        return qpNumber;
    }

    @Override
    public String toString() {
        return "WorkCompletion[wrId=" + wrId + ", status=" + status + ", opcode=" + opcode + ", byteLength="
                + byteLength + (hasImmediate ? ", imm=" + immediateData : "") + ", qp=" + qpNumber + "]";
    }
}
