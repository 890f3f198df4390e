package io.livemig.transport.rdma.verbs;

/** The status of a work completion, with the names and values of {@code enum ibv_wc_status}. */
public enum WcStatus {
    /** The work request completed. */
    SUCCESS(0),
    /** Local length error: e.g. a receive buffer too small for the incoming SEND. */
    LOC_LEN_ERR(1),
    /** Local queue-pair operation error. */
    LOC_QP_OP_ERR(2),
    /** Local EE context operation error (unused by RC). */
    LOC_EEC_OP_ERR(3),
    /** Local protection error: an SGE names an unknown lkey or lies outside its region. */
    LOC_PROT_ERR(4),
    /** The work request was flushed because the queue pair entered the error state. */
    WR_FLUSH_ERR(5),
    /** Memory-window bind error. */
    MW_BIND_ERR(6),
    /** Bad response error. */
    BAD_RESP_ERR(7),
    /** Local access error. */
    LOC_ACCESS_ERR(8),
    /** Remote invalid request: e.g. the responder's receive was too small (it saw LOC_LEN_ERR). */
    REM_INV_REQ_ERR(9),
    /** Remote access error: bad rkey, out of bounds, or access not granted on the responder. */
    REM_ACCESS_ERR(10),
    /** Remote operation error. */
    REM_OP_ERR(11),
    /** Transport retry counter exceeded: the responder did not acknowledge. */
    RETRY_EXC_ERR(12),
    /** Receiver-not-ready retry counter exceeded: the responder had no receive posted. */
    RNR_RETRY_EXC_ERR(13),
    /** Local RDD violation. */
    LOC_RDD_VIOL_ERR(14),
    /** Remote invalid RD request. */
    REM_INV_RD_REQ_ERR(15),
    /** Remote abort. */
    REM_ABORT_ERR(16),
    /** Invalid EE context number. */
    INV_EECN_ERR(17),
    /** Invalid EE context state. */
    INV_EEC_STATE_ERR(18),
    /** Fatal error. */
    FATAL_ERR(19),
    /** Response timeout. */
    RESP_TIMEOUT_ERR(20),
    /** General error. */
    GENERAL_ERR(21),
    /** Tag-matching error. */
    TM_ERR(22),
    /** Tag-matching rendezvous incomplete. */
    TM_RNDV_INCOMPLETE(23);

    private static final WcStatus[] BY_VALUE = values();

    private final int value;

    WcStatus(int value) {
        this.value = value;
    }

    /**
     * The value in {@code enum ibv_wc_status}.
     *
     * @return the native value
     */
    public int value() {
        return value;
    }

    /**
     * The status with the given native value.
     *
     * @param value a value of {@code enum ibv_wc_status}
     * @return the status
     * @throws IllegalArgumentException when the value is unknown
     */
    public static WcStatus valueOf(int value) {
        if (value < 0 || value >= BY_VALUE.length) {
            throw new IllegalArgumentException("unknown ibv_wc_status " + value);
        }
        return BY_VALUE[value];
    }
}
