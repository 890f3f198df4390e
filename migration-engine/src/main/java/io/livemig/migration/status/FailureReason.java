package io.livemig.migration.status;

/**
 * Why an outgoing migration failed, as the operator needs to tell it apart: each class asks for a different
 * remedy (start the destination, check the address, check the network, raise {@code --timeout}, check the keys).
 * The source's {@code error-desc} says which one it is in its words (the connection package's
 * {@code SourceFailure} holds the exact texts).
 */
public enum FailureReason {
    /** The destination's address has no listener: "nothing is listening on HOST:PORT (is the destination running?)". */
    NOTHING_LISTENING,
    /** What answered is neither livemig nor QEMU: its accept or its first control message is not the protocol's. */
    NOT_A_PEER,
    /** The connection closed, or its queue pair failed, after it was established. */
    PEER_LOST,
    /** The destination did not answer (connect, READY, a response, the final close) within the timeout. */
    PEER_TIMED_OUT,
    /** The destination rejected the connection: the source has no key, or another one. */
    REJECTED_AUTHENTICATION,
    /** The destination rejected the connection for another reason: busy, capabilities, or a foreign reject. */
    REJECTED,
    /** The destination sent ERROR: it failed or refused the migration (its own log says why). */
    PEER_FAILED,
    /** A livemig peer broke the protocol after speaking it correctly. */
    PROTOCOL_VIOLATION,
    /** The migration was cancelled ({@code migrate_cancel}). */
    CANCELLED,
    /** Something on the source itself failed (the application, the memory, a local resource). */
    LOCAL
}
