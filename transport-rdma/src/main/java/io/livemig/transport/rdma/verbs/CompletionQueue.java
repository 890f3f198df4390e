package io.livemig.transport.rdma.verbs;

/**
 * A completion queue ({@code struct ibv_cq}). Work completions are polled into a caller-owned, reusable array so
 * that the fast path allocates nothing.
 */
public interface CompletionQueue extends AutoCloseable {

    /**
     * The number of entries the queue holds.
     *
     * @return the capacity
     */
    int capacity();

    /**
     * Moves up to {@code completions.length} completions, oldest first, into the given objects
     * ({@code ibv_poll_cq}).
     *
     * @param completions reusable slots; entries past the returned count are left untouched
     * @return the number of slots filled, 0 when the queue is empty
     * @throws VerbsException when the queue is closed or overran (more completions than its capacity)
     */
    int poll(WorkCompletion[] completions) throws VerbsException;

    /**
     * Arms the queue ({@code ibv_req_notify_cq}): the next completion added to it produces one event on its
     * completion channel. Arming an armed queue has no further effect.
     *
     * @param solicitedOnly when {@code true} only solicited receives and errors fire the event
     * @throws VerbsException when the queue has no channel or is closed
     */
    void requestNotification(boolean solicitedOnly) throws VerbsException;

    /** Destroys the queue; idempotent, callable from any thread. */
    @Override
    void close();
}
