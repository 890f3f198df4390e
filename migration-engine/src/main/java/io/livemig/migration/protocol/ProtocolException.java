package io.livemig.migration.protocol;

import java.util.Objects;

/**
 * A violation of QEMU's RDMA migration wire protocol. The only exception the codec throws for bad
 * input: decoders never let an {@link IndexOutOfBoundsException} or similar escape.
 */
public final class ProtocolException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final ProtocolError error;

    /**
     * Creates an exception.
     *
     * @param error the kind of violation
     * @param message a precise, human-readable description
     */
    public ProtocolException(ProtocolError error, String message) {
        super(message);
        this.error = Objects.requireNonNull(error, "error");
    }

    /**
     * The kind of violation.
     *
     * @return the error kind
     */
    public ProtocolError error() {
        return error;
    }
}
