package io.livemig.transport.rdma.verbs;

/** Thrown when a bounded wait (for a completion-channel or rdma_cm event) ends without the event. */
public final class VerbsTimeoutException extends VerbsException {

    /**
     * Creates an exception.
     *
     * @param message what was awaited and for how long
     */
    public VerbsTimeoutException(String message) {
        super(message);
    }
}
