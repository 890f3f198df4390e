package io.livemig.transport.rdma.verbs;

/** rdma_cm event types, with the names and values of {@code enum rdma_cm_event_type}. */
public enum CmEventType {
    /** {@code rdma_resolve_addr} succeeded. */
    ADDR_RESOLVED(0),
    /** {@code rdma_resolve_addr} failed or timed out. */
    ADDR_ERROR(1),
    /** {@code rdma_resolve_route} succeeded. */
    ROUTE_RESOLVED(2),
    /** {@code rdma_resolve_route} failed or timed out. */
    ROUTE_ERROR(3),
    /** A peer asked to connect; on the listening id, with a new id for the connection and the peer's private data. */
    CONNECT_REQUEST(4),
    /** Connection error on the passive side (the peer never completed the handshake). */
    CONNECT_ERROR(6),
    /** The peer did not answer within the connect timeout. */
    UNREACHABLE(7),
    /** The peer (or its CM) rejected the request; carries the peer's private data, if any. */
    REJECTED(8),
    /** The connection is up; on the active side with the private data the peer passed to accept. */
    ESTABLISHED(9),
    /** The connection went down (either side disconnected, or the link failed). */
    DISCONNECTED(10);

    private final int value;

    CmEventType(int value) {
        this.value = value;
    }

    /**
     * The value in {@code enum rdma_cm_event_type}.
     *
     * @return the native value
     */
    public int value() {
        return value;
    }
}
