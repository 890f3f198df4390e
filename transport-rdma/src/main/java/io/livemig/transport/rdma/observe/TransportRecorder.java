package io.livemig.transport.rdma.observe;

import io.livemig.transport.rdma.verbs.WcOpcode;
import io.livemig.transport.rdma.verbs.WcStatus;

/**
 * What the RDMA transport reports as it works, for metrics. An event loop gets one through
 * {@code RdmaIoHandler.newFactory(spinPolls, recorder)}; the loop reports its own iterations, and every channel
 * registered on it reports its work requests and completions. Every method has a no-op default and {@link #NOOP}
 * records nothing, so a transport without metrics pays one interface call per event. The {@code metrics} module
 * implements it with Micrometer meters.
 *
 * <p>Called on event-loop threads, several at once when a group has several loops: implementations must be
 * thread-safe and must not block. Every method is on the hot path (once per work completion, once per loop
 * iteration): keep each to an add on a striped counter such as {@link java.util.concurrent.atomic.LongAdder}.
 *
 * <p>The two level reports ({@link #sendQueueOutstanding}, {@link #receiveCredits}) are deltas whose running sum is
 * the level across all channels: a channel reports +1 per request posted, -1 per completion (success or flush), and
 * when it is destroyed the negative of whatever never completed, so the sums return to zero once every channel is
 * gone.
 */
public interface TransportRecorder {

    /** Records nothing. */
    TransportRecorder NOOP = new TransportRecorder() { };

    /**
     * One iteration of an event loop: it polled every completion queue and either went on at once (busy, or
     * hybrid-polling before it blocks) or armed the queues and blocked in {@code epoll_wait} until a completion, an
     * rdma_cm event, a wakeup or the next scheduled task.
     *
     * @param blocked whether this iteration armed the queues and blocked
     */
    default void eventLoopRun(boolean blocked) {
    }

    /**
     * A work completion was polled and handed to its channel.
     *
     * @param opcode the operation; for a failed completion, whose opcode verbs leaves undefined, the operation the
     *               channel posted ({@link WcOpcode#SEND}, {@link WcOpcode#RDMA_WRITE}, {@link WcOpcode#RDMA_READ}
     *               or {@link WcOpcode#RECV})
     * @param status its status
     */
    default void workCompletion(WcOpcode opcode, WcStatus status) {
    }

    /**
     * Send-queue work requests (SEND, RDMA WRITE, RDMA READ) in flight changed.
     *
     * @param delta +1 per request posted; -1 per completion; minus the remainder when a channel is destroyed
     */
    default void sendQueueOutstanding(int delta) {
    }

    /**
     * Posted receives changed: each one is a SEND the peer may make into this side (a credit it holds).
     *
     * @param delta +1 per receive posted; -1 per receive completion (data or flush); minus the remainder when a
     *              channel is destroyed
     */
    default void receiveCredits(int delta) {
    }
}
