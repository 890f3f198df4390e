package io.livemig.migration.protocol;

/**
 * What was wrong with bytes a peer sent (or that a caller asked the codec to encode). Carried by every
 * {@link ProtocolException} so that callers and tests can branch on the kind of violation rather than
 * on message text.
 */
public enum ProtocolError {
    /** The input ended before a complete header, record or token (fewer bytes than its fixed size). */
    TRUNCATED,
    /** A control header's {@code len} is above {@link ControlHeader#MAX_PAYLOAD_LENGTH} (QEMU: "too long length"). */
    LENGTH_TOO_LONG,
    /** {@code 16 + len} differs from the number of bytes received (QEMU: "Malformed length"). */
    LENGTH_MISMATCH,
    /** A control header's {@code type} is not one of the twelve {@link ControlType} values. */
    UNKNOWN_TYPE,
    /** A destination received {@code repeat} above {@link ControlHeader#MAX_COMMANDS_PER_MESSAGE}. */
    REPEAT_TOO_LARGE,
    /** A payload length is not a multiple of its record size. */
    PAYLOAD_NOT_WHOLE_RECORDS,
    /** The number of records in a payload disagrees with {@code repeat} or with the type's fixed count. */
    RECORD_COUNT_MISMATCH,
    /** A message type that carries no payload arrived with one. */
    UNEXPECTED_PAYLOAD,
    /** A QEMU FILE message with no data (QEMU never sends one; the reader would see "would block"). */
    EMPTY_PAYLOAD,
    /** The capabilities in CM private data name a protocol version other than 1. */
    UNSUPPORTED_VERSION,
    /** A field holds a value the protocol does not allow (block name, address, index, ...). */
    INVALID_FIELD,
    /** A message arrived whose type differs from the one the receiver was waiting for. */
    UNEXPECTED_TYPE,
    /** The peer sent ERROR: it failed or cancelled and is tearing the connection down. */
    PEER_ERROR
}
