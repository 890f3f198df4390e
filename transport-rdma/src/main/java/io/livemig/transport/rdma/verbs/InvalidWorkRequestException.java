package io.livemig.transport.rdma.verbs;

/**
 * Thrown synchronously by a post call for a work request the queue pair cannot accept at all (the {@code EINVAL}
 * and {@code ENOMEM} returns of {@code ibv_post_send}/{@code ibv_post_recv}): too many SGEs, inline data larger
 * than {@code max_inline_data}, a full work queue, or a queue pair in a state that forbids posting.
 * No part of a rejected request is executed and no completion is generated for it.
 */
public final class InvalidWorkRequestException extends VerbsException {

    /**
     * Creates an exception.
     *
     * @param message why the request was refused
     */
    public InvalidWorkRequestException(String message) {
        super(message);
    }
}
