package io.livemig.migration.connection;

import io.livemig.migration.protocol.ProtocolError;
import io.livemig.migration.protocol.ProtocolException;
import io.livemig.migration.status.FailureReason;
import io.livemig.transport.rdma.channel.RdmaException;
import io.netty.channel.ConnectTimeoutException;
import java.io.IOException;
import java.io.Serial;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeoutException;

/**
 * Why an outgoing migration failed: one {@link FailureReason} and the sentence the operator reads (the source's
 * {@code error-desc}, the command line's "migration failed: ..." line, HMP's {@code info migrate}). The sentences
 * of the classes an operator acts on begin the same way every time:
 * <ul>
 *   <li>{@code nothing is listening on HOST:PORT (is the destination running?)}</li>
 *   <li>{@code HOST:PORT is not a livemig/QEMU peer: ...}</li>
 *   <li>{@code peer lost: ...}</li>
 *   <li>{@code peer timed out: ... timed out after N ms}</li>
 *   <li>{@code the destination at HOST:PORT rejected the connection: authentication failed (check
 *       --auth-key-file on both ends)}</li>
 * </ul>
 * {@link #classify} turns whatever a migration failed with into one of these, so that the reason is decided in this
 * class alone.
 */
public final class SourceFailure extends IOException {

    @Serial
    private static final long serialVersionUID = 1L;

    /** What the source says when its connection closed without the destination's ERROR. */
    static final String CLOSED = "the connection to the destination was closed (the destination stopped or the "
            + "link failed)";

    private final FailureReason reason;

    private SourceFailure(FailureReason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /**
     * The class of the failure.
     *
     * @return the reason
     */
    public FailureReason reason() {
        return reason;
    }

    /**
     * Nobody listens at the destination's address (its connection manager said so).
     *
     * @param where HOST:PORT
     * @param cause the reject
     * @return the failure
     */
    static SourceFailure nothingListening(String where, Throwable cause) {
        return new SourceFailure(FailureReason.NOTHING_LISTENING, "nothing is listening on " + where
                + " (is the destination running?)", cause);
    }

    /**
     * What answered is not a migration peer.
     *
     * @param where HOST:PORT
     * @param why what it did instead
     * @param cause the violation
     * @return the failure
     */
    static SourceFailure notAPeer(String where, String why, Throwable cause) {
        return new SourceFailure(FailureReason.NOT_A_PEER, where + " is not a livemig/QEMU peer: " + why, cause);
    }

    /**
     * The destination rejected the source's key (or its lack of one).
     *
     * @param where HOST:PORT
     * @param cause the reject
     * @return the failure
     */
    static SourceFailure rejectedAuthentication(String where, Throwable cause) {
        return new SourceFailure(FailureReason.REJECTED_AUTHENTICATION, "the destination at " + where
                + " rejected the connection: authentication failed (check --auth-key-file on both ends)", cause);
    }

    /**
     * Another reject.
     *
     * @param message the sentence
     * @param cause the reject
     * @return the failure
     */
    static SourceFailure rejected(String message, Throwable cause) {
        return new SourceFailure(FailureReason.REJECTED, message, cause);
    }

    /**
     * Classifies what a migration failed with. A {@code SourceFailure} is returned as it is; otherwise the first
     * cause in the chain that says something decides: a timeout ({@code peer timed out}), a closed connection or a
     * failed work request ({@code peer lost}), the destination's ERROR, a protocol violation ({@code not a
     * livemig/QEMU peer} when the destination never sent a valid control message, else a violation), a cancel;
     * anything else is the source's own failure and keeps its message.
     *
     * @param error what the migration failed with
     * @param where the destination's HOST:PORT
     * @param peerSpoke whether a valid control message arrived from the destination
     * @return the failure, with {@code error} as its cause unless it was one already
     */
    public static SourceFailure classify(Throwable error, String where, boolean peerSpoke) {
        Throwable top = error instanceof UncheckedIOException unchecked && unchecked.getCause() != null
                ? unchecked.getCause() : error;
        for (Throwable cause = top; cause != null; cause = cause.getCause()) {
            if (cause instanceof SourceFailure failure) {
                return failure;
            }
            if (cause instanceof CancellationException) {
                return new SourceFailure(FailureReason.CANCELLED, message(cause, "migration cancelled"), error);
            }
            if (cause instanceof TimeoutException || cause instanceof ConnectTimeoutException) {
                // Deadlines words it "WHAT timed out after N ms"; a bare TimeoutException has no message.
                String what = cause == top || top.getMessage() == null ? message(cause, "no answer") : top.getMessage();
                return new SourceFailure(FailureReason.PEER_TIMED_OUT, "peer timed out: " + what, error);
            }
            if (cause instanceof ProtocolException protocol) {
                if (protocol.error() == ProtocolError.PEER_ERROR) {
                    return new SourceFailure(FailureReason.PEER_FAILED, message(top, protocol.getMessage()), error);
                }
                if (!peerSpoke) {
                    return notAPeer(where, "its first control message is not valid: " + protocol.getMessage(), error);
                }
                return new SourceFailure(FailureReason.PROTOCOL_VIOLATION, "protocol violation by the destination: "
                        + protocol.getMessage(), error);
            }
            if (cause instanceof ClosedChannelException) {
                return new SourceFailure(FailureReason.PEER_LOST, "peer lost: " + CLOSED, error);
            }
            if (cause instanceof RdmaException || cause instanceof io.livemig.migration.source.WriteRefusedException) {
                // The source's own request failed on the wire (retries exhausted, RNR, remote access, flushed).
                return new SourceFailure(FailureReason.PEER_LOST, "peer lost: " + message(top, cause.getMessage()),
                        error);
            }
        }
        return new SourceFailure(FailureReason.LOCAL, message(top, top.getClass().getSimpleName()), error);
    }

    private static String message(Throwable e, String otherwise) {
        return e.getMessage() != null ? e.getMessage() : otherwise;
    }
}
