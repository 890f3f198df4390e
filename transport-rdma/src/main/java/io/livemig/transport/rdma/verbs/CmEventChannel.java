package io.livemig.transport.rdma.verbs;

import java.time.Duration;

/**
 * An rdma_cm event channel ({@code struct rdma_event_channel}): the connection identifiers created on it report
 * their events here. {@link #fd()} is a Linux file descriptor that is readable while events are pending.
 */
public interface CmEventChannel extends AutoCloseable {

    /**
     * The pollable, non-blocking file descriptor; valid until {@link #close()}.
     *
     * @return the descriptor number
     */
    int fd();

    /**
     * Creates a connection identifier on this channel ({@code rdma_create_id} with {@code RDMA_PS_TCP}).
     *
     * @return the new identifier, owned by the caller
     * @throws VerbsException when the channel is closed
     */
    CmId createId() throws VerbsException;

    /**
     * Takes the next event without blocking ({@code rdma_get_cm_event} + {@code rdma_ack_cm_event}).
     *
     * @return the event, or {@code null} when none is pending
     * @throws VerbsException when the channel is closed
     */
    CmEvent pollEvent() throws VerbsException;

    /**
     * Waits for the next event.
     *
     * @param timeout the longest wait
     * @return the event
     * @throws VerbsTimeoutException when none arrived within the timeout
     * @throws VerbsException when the channel is closed
     */
    CmEvent awaitEvent(Duration timeout) throws VerbsException;

    /** Destroys every identifier still open on the channel, then the channel; idempotent, any thread. */
    @Override
    void close();
}
