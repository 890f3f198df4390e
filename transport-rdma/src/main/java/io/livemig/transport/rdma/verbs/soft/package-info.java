/**
 * The soft verbs provider ({@code "soft"}): reliable-connected RDMA semantics in pure Java, so livemig runs its
 * full protocol, and fails the same way, on machines without an RDMA NIC.
 *
 * <p>Layers, bottom up:
 * <ul>
 *   <li>A {@link io.livemig.transport.rdma.verbs.soft.Fabric} moves frames over wires: {@code TcpFabric} (one TCP
 *       connection per queue pair, across processes and hosts) or {@code InJvmFabric} (one deterministic delivery
 *       thread, fault injection). Payloads are copied once: socket to destination region, or source region to
 *       destination region.</li>
 *   <li>{@code SoftCmId} runs the IB CM handshake (REQ/REP/RTU, REJ, DREQ/DREP, with private data) over the
 *       connection's own wire and routes RC packets to its queue pair.</li>
 *   <li>{@code SoftQueuePair} with {@code RcRequester} and {@code RcResponder} is the RC engine: PSNs, in-order
 *       execution, ACK/NAK (PSN sequence, RNR, invalid request, remote access), go-back-N retransmission on the
 *       local ACK timeout, RNR retry counting, and the error state that flushes every work request.</li>
 * </ul>
 *
 * <p>Towards strangers on the TCP fabric: a frame header is checked (magic, kind, CM private data of at most 56
 * bytes) before anything is read or allocated for it; accepted connections that have not sent their REQ are bounded
 * by the listen backlog (the rest are dropped at once) and by a 10 s handshake deadline. A requester that exhausts its
 * retries aborts its TCP connection: over a cut without a reset, a writer blocked in the socket would otherwise hold
 * the memory of requests that already completed in error.
 *
 * <p>Simplifications, none observable through the SPI: one packet per work request (no MTU segmentation), PSNs
 * carried as 64-bit values (no 24-bit wrap), and an RDMA READ consumes one PSN.
 */
package io.livemig.transport.rdma.verbs.soft;
