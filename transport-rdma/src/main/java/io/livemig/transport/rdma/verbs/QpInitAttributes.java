package io.livemig.transport.rdma.verbs;

import java.util.Objects;

/**
 * What a reliable-connected queue pair is created with ({@code struct ibv_qp_init_attr}).
 *
 * @param sendCq the queue that receives send-side completions
 * @param receiveCq the queue that receives receive completions (may be the same as {@code sendCq})
 * @param maxSendWr the send queue depth
 * @param maxReceiveWr the receive queue depth
 * @param maxSendSge the longest SGE list of a send work request
 * @param maxReceiveSge the longest SGE list of a receive work request
 * @param maxInlineData the largest inline payload
 * @param signalAll {@code sq_sig_all}: every send work request generates a completion, signaled or not
 */
public record QpInitAttributes(CompletionQueue sendCq, CompletionQueue receiveCq, int maxSendWr, int maxReceiveWr,
                               int maxSendSge, int maxReceiveSge, int maxInlineData, boolean signalAll) {

    /**
     * Validates the attributes.
     *
     * @throws NullPointerException when a queue is missing
     * @throws IllegalArgumentException when a depth or SGE count is not positive or the inline size is negative
     */
    public QpInitAttributes {
        Objects.requireNonNull(sendCq, "sendCq");
        Objects.requireNonNull(receiveCq, "receiveCq");
        if (maxSendWr < 1 || maxReceiveWr < 1 || maxSendSge < 1 || maxReceiveSge < 1 || maxInlineData < 0) {
            throw new IllegalArgumentException("queue depths and SGE counts must be positive, inline size >= 0: "
                    + "maxSendWr=" + maxSendWr + ", maxReceiveWr=" + maxReceiveWr + ", maxSendSge=" + maxSendSge
                    + ", maxReceiveSge=" + maxReceiveSge + ", maxInlineData=" + maxInlineData);
        }
    }

    /**
     * Attributes with the given queues and depths, 4 SGEs each way, 64 bytes inline, selective signaling.
     *
     * @param sendCq the send completion queue
     * @param receiveCq the receive completion queue
     * @param maxSendWr the send queue depth
     * @param maxReceiveWr the receive queue depth
     * @return the attributes
     */
    public static QpInitAttributes of(CompletionQueue sendCq, CompletionQueue receiveCq, int maxSendWr,
                                      int maxReceiveWr) {
        return new QpInitAttributes(sendCq, receiveCq, maxSendWr, maxReceiveWr, 4, 4, 64, false);
    }
}
