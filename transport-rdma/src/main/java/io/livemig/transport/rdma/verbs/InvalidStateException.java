package io.livemig.transport.rdma.verbs;

/**
 * Thrown when an operation is called on a resource whose state forbids it: a closed device, a deregistered memory
 * region, a connection identifier that is not yet route-resolved, a queue pair that already exists.
 */
public final class InvalidStateException extends VerbsException {

    /**
     * Creates an exception.
     *
     * @param message the operation, the resource and its current state
     */
    public InvalidStateException(String message) {
        super(message);
    }
}
