package io.livemig.transport.rdma.verbs;

import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * An rdma_cm connection identifier ({@code struct rdma_cm_id}): the analogue of a socket. Every asynchronous step
 * reports its outcome as a {@link CmEvent} on the identifier's {@link CmEventChannel}, and every step is bounded by
 * a timeout, so a caller that waits on the channel never waits forever.
 *
 * <p>Active side: {@link #resolveAddress} → ADDR_RESOLVED → {@link #resolveRoute} → ROUTE_RESOLVED →
 * {@link #createQueuePair} → {@link #connect} → ESTABLISHED (with the peer's private data), REJECTED or
 * UNREACHABLE. Passive side: {@link #listen} → CONNECT_REQUEST (new id, peer's private data) → on the new id
 * {@link #createQueuePair} → {@link #accept} → ESTABLISHED, or {@link #reject}.
 */
public interface CmId extends AutoCloseable {

    /**
     * Resolves the destination ({@code rdma_resolve_addr}); ADDR_RESOLVED or ADDR_ERROR follows.
     *
     * @param destination the peer's address (IPv4 or IPv6)
     * @param timeout the longest the resolution may take
     * @throws VerbsException when the identifier is not idle
     */
    void resolveAddress(InetSocketAddress destination, Duration timeout) throws VerbsException;

    /**
     * Resolves the route ({@code rdma_resolve_route}); ROUTE_RESOLVED or ROUTE_ERROR follows.
     *
     * @param timeout the longest the resolution may take
     * @throws VerbsException when the address is not resolved
     */
    void resolveRoute(Duration timeout) throws VerbsException;

    /**
     * Binds to a local address and listens ({@code rdma_bind_addr} + {@code rdma_listen}).
     *
     * @param address the local address; port 0 picks a free port, see {@link #localAddress()}
     * @param backlog the number of pending connect requests
     * @throws VerbsException when the address is in use or the identifier is not idle
     */
    void listen(InetSocketAddress address, int backlog) throws VerbsException;

    /**
     * Creates the identifier's reliable-connected queue pair ({@code rdma_create_qp}) in state INIT, so receives
     * can be posted before the connection is established.
     *
     * @param pd the protection domain
     * @param attributes the queue pair attributes
     * @return the queue pair, owned by this identifier (closed with it)
     * @throws VerbsException when a queue pair exists already, the route is not resolved (active side) or this is
     *         a listening identifier
     */
    QueuePair createQueuePair(ProtectionDomain pd, QpInitAttributes attributes) throws VerbsException;

    /**
     * The queue pair created by {@link #createQueuePair}.
     *
     * @return the queue pair, or {@code null}
     */
    QueuePair queuePair();

    /**
     * Sends a connect request ({@code rdma_connect}); ESTABLISHED, REJECTED or UNREACHABLE follows.
     *
     * @param parameters private data, retry counts and the handshake timeout
     * @throws VerbsException when the private data is too long, the route is not resolved or there is no queue pair
     */
    void connect(ConnectionParameters parameters) throws VerbsException;

    /**
     * Accepts the connect request that created this identifier ({@code rdma_accept}); ESTABLISHED follows, or
     * CONNECT_ERROR when the peer does not complete the handshake within the timeout.
     *
     * @param parameters private data for the peer's ESTABLISHED, retry counts and the handshake timeout
     * @throws VerbsException when this identifier did not come from a CONNECT_REQUEST or has no queue pair
     */
    void accept(ConnectionParameters parameters) throws VerbsException;

    /**
     * Rejects the connect request that created this identifier ({@code rdma_reject}); the peer gets REJECTED with
     * status {@link CmEvent#REJECT_CONSUMER_DEFINED} and this private data.
     *
     * @param privateData the private data for the peer
     * @throws VerbsException when this identifier did not come from a CONNECT_REQUEST or was already answered
     */
    void reject(byte[] privateData) throws VerbsException;

    /**
     * Disconnects ({@code rdma_disconnect}): the queue pair moves to ERR (flushing its work requests) and both sides
     * get DISCONNECTED. Idempotent.
     */
    void disconnect();

    /**
     * The local address, once bound, listening or connected.
     *
     * @return the address, or {@code null}
     */
    InetSocketAddress localAddress();

    /**
     * The peer's address, once resolved or connected.
     *
     * @return the address, or {@code null}
     */
    InetSocketAddress remoteAddress();

    /** Disconnects, destroys the queue pair and the identifier ({@code rdma_destroy_id}); idempotent, any thread. */
    @Override
    void close();
}
