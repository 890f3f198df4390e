package io.livemig.transport.rdma.verbs;

import java.util.List;

/**
 * A reliable-connected queue pair ({@code struct ibv_qp}, {@code IBV_QPT_RC}), created through
 * {@link CmId#createQueuePair}. The connection manager moves it RESET → INIT at creation and INIT → RTR → RTS when
 * the connection is established; {@link #moveToError()} and {@link CmId#disconnect()} move it to ERR.
 *
 * <p>RC guarantees what {@code man ibv_post_send} and the IB spec (chapter 9.7) promise: requests execute in order,
 * a SEND consumes the oldest posted receive, an RDMA WRITE's completion means its bytes are placed in the
 * responder's memory, and completions are reported in posting order per work queue.
 */
public interface QueuePair extends AutoCloseable {

    /**
     * The queue pair number.
     *
     * @return {@code qp_num}
     */
    int qpNumber();

    /**
     * The current state.
     *
     * @return the state
     */
    QpState state();

    /**
     * The attributes the queue pair was created with.
     *
     * @return the attributes
     */
    QpInitAttributes attributes();

    /**
     * Posts one send work request ({@code ibv_post_send}). Never blocks on the network.
     *
     * @param request the request
     * @throws InvalidWorkRequestException when the request is malformed, the send queue is full or the state is
     *         RESET, INIT or RTR (in ERR the request is accepted and flushed)
     */
    void postSend(SendWorkRequest request) throws InvalidWorkRequestException;

    /**
     * Posts a chain of send work requests in order; stops at the first refused one, as {@code bad_wr} does.
     *
     * @param requests the requests
     * @throws InvalidWorkRequestException for the first refused request; those before it were posted
     */
    default void postSend(List<SendWorkRequest> requests) throws InvalidWorkRequestException {
        for (SendWorkRequest request : requests) {
            postSend(request);
        }
    }

    /**
     * Posts one receive work request ({@code ibv_post_recv}).
     *
     * @param request the request
     * @throws InvalidWorkRequestException when the request is malformed, the receive queue is full or the state is
     *         RESET
     */
    void postReceive(ReceiveWorkRequest request) throws InvalidWorkRequestException;

    /**
     * Moves the queue pair to ERR ({@code ibv_modify_qp} with {@code IBV_QPS_ERR}): every outstanding send and
     * receive completes with {@link WcStatus#WR_FLUSH_ERR}. Idempotent.
     */
    void moveToError();

    /** Moves the queue pair to ERR (flushing) and destroys it; idempotent, callable from any thread. */
    @Override
    void close();
}
