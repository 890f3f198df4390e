package io.livemig.transport.rdma.verbs;

import java.time.Duration;

/**
 * A completion channel ({@code struct ibv_comp_channel}). Its {@link #fd()} is a Linux file descriptor that becomes
 * readable when a completion queue armed with {@link CompletionQueue#requestNotification(boolean)} receives a
 * completion, so one event loop (epoll) can wait on many channels and its own wakeup descriptor.
 *
 * <p>Discipline, as in {@code man ibv_get_cq_event}: take the event, re-arm the queue, then poll it until empty;
 * re-arming after the last poll would strand a completion that arrived in between.
 */
public interface CompletionChannel extends AutoCloseable {

    /**
     * The pollable, non-blocking file descriptor; valid until {@link #close()}.
     *
     * @return the descriptor number
     */
    int fd();

    /**
     * Takes the next notification without blocking ({@code ibv_get_cq_event} on a non-blocking descriptor,
     * followed by the acknowledgement {@code ibv_ack_cq_events} needs).
     *
     * @return the completion queue that fired, or {@code null} when none has
     * @throws VerbsException when the channel is closed
     */
    CompletionQueue pollEvent() throws VerbsException;

    /**
     * Waits for the next notification.
     *
     * @param timeout the longest wait
     * @return the completion queue that fired
     * @throws VerbsTimeoutException when none fired within the timeout
     * @throws VerbsException when the channel is closed
     */
    CompletionQueue awaitEvent(Duration timeout) throws VerbsException;

    /** Closes the descriptor; idempotent, callable from any thread. */
    @Override
    void close();
}
