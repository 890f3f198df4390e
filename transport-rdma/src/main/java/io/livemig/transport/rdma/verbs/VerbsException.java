package io.livemig.transport.rdma.verbs;

import java.io.IOException;

/** Base type of every checked failure reported by a verbs provider. */
public class VerbsException extends IOException {

    /**
     * Creates an exception.
     *
     * @param message what failed, with the values that made it fail
     */
    public VerbsException(String message) {
        super(message);
    }

    /**
     * Creates an exception with a cause.
     *
     * @param message what failed, with the values that made it fail
     * @param cause the underlying failure
     */
    public VerbsException(String message, Throwable cause) {
        super(message, cause);
    }
}
