package io.livemig.migration.api;

import io.livemig.migration.connection.SourceFailure;
import io.livemig.migration.status.FailureReason;
import io.livemig.migration.status.MigrationInfo;
import java.io.Serial;

/**
 * A migration ended {@code failed} or {@code cancelled}; {@link #info()} is its last snapshot, with
 * {@code error-desc} saying why.
 */
public final class MigrationFailedException extends RuntimeException {

    @Serial
    private static final long serialVersionUID = 1L;

    private final transient MigrationInfo info;
    private final FailureReason reason;

    /**
     * Creates the exception.
     *
     * @param info the final snapshot
     * @param cause what failed it
     */
    public MigrationFailedException(MigrationInfo info, Throwable cause) {
        super("migration " + info.status().qmpName() + (info.errorDesc() != null ? ": " + info.errorDesc() : ""),
                cause);
        this.info = info;
        this.reason = cause instanceof SourceFailure failure ? failure.reason() : null;
    }

    /**
     * Why an outgoing migration failed or was cancelled: {@code error-desc}'s class.
     *
     * @return the reason on the source; {@code null} for an incoming migration
     */
    public FailureReason reason() {
        return reason;
    }

    /**
     * The final snapshot.
     *
     * @return the snapshot
     */
    public MigrationInfo info() {
        return info;
    }
}
