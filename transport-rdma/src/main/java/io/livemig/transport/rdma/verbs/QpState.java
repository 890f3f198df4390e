package io.livemig.transport.rdma.verbs;

/** Queue-pair states of a reliable-connected QP ({@code enum ibv_qp_state}, the subset RC uses). */
public enum QpState {
    /** Created, nothing may be posted. */
    RESET,
    /** Initialized: receives may be posted, nothing is sent. */
    INIT,
    /** Ready to receive: the responder runs; sends are refused. */
    RTR,
    /** Ready to send: fully connected. */
    RTS,
    /** Error: every outstanding and newly posted work request completes with {@link WcStatus#WR_FLUSH_ERR}. */
    ERR
}
