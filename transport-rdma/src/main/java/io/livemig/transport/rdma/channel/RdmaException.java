package io.livemig.transport.rdma.channel;

import io.livemig.transport.rdma.verbs.WcStatus;
import java.io.IOException;

/** An RDMA operation failed: a work completion with an error status, or a request the provider refused. */
public class RdmaException extends IOException {

    private static final long serialVersionUID = 1L;

    /** The completion status, or {@code null} when the failure was not a completion. */
    private final transient WcStatus status;

    /**
     * A failed work completion.
     *
     * @param message what was being done
     * @param status the completion status
     */
    public RdmaException(String message, WcStatus status) {
        super(message + ": " + status);
        this.status = status;
    }

    /**
     * A failure without a completion status.
     *
     * @param message the description
     * @param cause the cause, or {@code null}
     */
    public RdmaException(String message, Throwable cause) {
        super(message, cause);
        this.status = null;
    }

    /**
     * The status of the failed work completion.
     *
     * @return the status, or {@code null} when the failure was not a completion
     */
    public WcStatus status() {
        return status;
    }
}
