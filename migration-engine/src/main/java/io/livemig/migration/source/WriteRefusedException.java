package io.livemig.migration.source;

import java.io.IOException;

/**
 * An RDMA WRITE the destination's adapter refused: its work completion at the source says remote access error
 * ({@code IBV_WC_REM_ACCESS_ERR}), because the rkey does not grant writing the target range (the destination
 * deregistered it, or never registered it). The destination's CPU never sees such a write, so only the source
 * can say which write it was; {@link RdmaDataPath#write} fails with this so that the round can name it.
 */
public final class WriteRefusedException extends IOException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what the data path knows of the refusal
     * @param cause the transport's failure, or {@code null}
     */
    public WriteRefusedException(String message, Throwable cause) {
        super(message, cause);
    }
}
