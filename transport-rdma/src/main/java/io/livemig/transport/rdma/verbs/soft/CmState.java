package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.verbs.InvalidStateException;
import java.util.Arrays;

/**
 * The states of a soft rdma_cm identifier. Active side: IDLE → (RESOLVING_ADDR) → ADDR_RESOLVED → ROUTE_RESOLVED →
 * CONNECTING → CONNECTED. Passive side: IDLE → LISTENING, and for each accepted wire a new identifier
 * AWAITING_REQUEST → REQUEST_RECEIVED → ACCEPTING → CONNECTED. Then CONNECTED → DISCONNECTING → DISCONNECTED
 * (or straight to DISCONNECTED on the peer's DREQ or a link failure); failed handshakes end in FAILED; CLOSED is
 * final.
 */
enum CmState {
    /** Created, nothing started. */
    IDLE,
    /** A host name is being resolved on a resolver thread. */
    RESOLVING_ADDR,
    /** {@code rdma_resolve_addr} done. */
    ADDR_RESOLVED,
    /** {@code rdma_resolve_route} done; a queue pair may be created and connected. */
    ROUTE_RESOLVED,
    /** REQ sent (or the wire is being connected); waiting for REP or REJ. */
    CONNECTING,
    /** A listening identifier. */
    LISTENING,
    /** A wire was accepted for a listener; waiting for its REQ. */
    AWAITING_REQUEST,
    /** CONNECT_REQUEST reported; the application must accept, reject or close. */
    REQUEST_RECEIVED,
    /** REP sent; waiting for RTU. */
    ACCEPTING,
    /** Established; the queue pair is in RTS. */
    CONNECTED,
    /** DREQ sent; waiting for DREP. */
    DISCONNECTING,
    /** DISCONNECTED reported. */
    DISCONNECTED,
    /** The handshake failed or was rejected; the failure was reported. */
    FAILED,
    /** Destroyed. */
    CLOSED;

    /**
     * Checks that an operation is allowed in this state.
     *
     * @param operation the verb, for the message
     * @param allowed the states it is allowed in
     * @throws InvalidStateException when it is not
     */
    void require(String operation, CmState... allowed) throws InvalidStateException {
        for (CmState candidate : allowed) {
            if (this == candidate) {
                return;
            }
        }
        throw new InvalidStateException(operation + ": identifier is " + this + ", expected "
                + (allowed.length == 1 ? allowed[0] : Arrays.toString(allowed)));
    }
}
