package io.livemig.migration.protocol;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes one received control message (the bytes of one SEND) with QEMU's validation, in QEMU's
 * order (spec section 3.1), plus the payload checks a strict implementation adds:
 * <ol>
 *   <li>at least a whole 16-byte header ({@link ProtocolError#TRUNCATED});</li>
 *   <li>{@code len} at most 524272 ({@link ProtocolError#LENGTH_TOO_LONG});</li>
 *   <li>{@code 16 + len} equals the bytes received ({@link ProtocolError#LENGTH_MISMATCH});</li>
 *   <li>a known type ({@link ProtocolError#UNKNOWN_TYPE});</li>
 *   <li>on a destination, {@code repeat} at most 4096, except for QEMU FILE whose repeat older QEMU
 *       leaves as stack garbage ({@link ProtocolError#REPEAT_TOO_LARGE});</li>
 *   <li>the payload fits the type: none where none is defined, whole records, record count equal to
 *       repeat (with QEMU's single-result REGISTER RESULT quirk accepted), non-empty QEMU FILE.</li>
 * </ol>
 * Padding is ignored everywhere. A decoder is stateless and thread-safe.
 */
public final class ControlDecoder {

    /** Which end of the main connection receives: the checks differ slightly. */
    public enum Role {
        /** Receives READY, RAM BLOCKS RESULT, REGISTER RESULT, UNREGISTER FINISHED, ERROR. */
        SOURCE,
        /** Receives everything else; enforces the 4096-record limit on {@code repeat}. */
        DESTINATION
    }

    private static final ControlDecoder SOURCE = new ControlDecoder(Role.SOURCE);
    private static final ControlDecoder DESTINATION = new ControlDecoder(Role.DESTINATION);

    private final Role role;

    private ControlDecoder(Role role) {
        this.role = role;
    }

    /**
     * The decoder a migration source uses.
     *
     * @return the decoder
     */
    public static ControlDecoder forSource() {
        return SOURCE;
    }

    /**
     * The decoder a migration destination uses.
     *
     * @return the decoder
     */
    public static ControlDecoder forDestination() {
        return DESTINATION;
    }

    /**
     * The role this decoder validates for.
     *
     * @return the role
     */
    public Role role() {
        return role;
    }

    /**
     * Decodes the readable bytes of {@code received}, which must be exactly one message (the completion's
     * {@code byte_len} bytes). On success every readable byte is consumed and a QEMU FILE payload is a
     * retained slice of {@code received}: release the returned message when done. On failure nothing is
     * retained and the reader index is left where it was.
     *
     * @param received the bytes of one SEND
     * @return the message
     * @throws ProtocolException for any violation
     */
    public ControlMessage decode(ByteBuf received) {
        int byteLen = received.readableBytes();
        Wire.requireReadable(received, ControlHeader.SIZE, "control header");
        int start = received.readerIndex();
        int length = received.getInt(start);
        int typeValue = received.getInt(start + 4);
        int repeat = received.getInt(start + 8);

        ControlHeader.checkLength(length);
        if (ControlHeader.SIZE + length != byteLen) {
            throw new ProtocolException(ProtocolError.LENGTH_MISMATCH, "malformed length: the header announces "
                    + ControlHeader.SIZE + " + " + length + " bytes, but " + byteLen + " bytes were received");
        }
        ControlType type = ControlType.fromValue(typeValue);
        if (role == Role.DESTINATION && type != ControlType.QEMU_FILE
                && Integer.compareUnsigned(repeat, ControlHeader.MAX_COMMANDS_PER_MESSAGE) > 0) {
            throw new ProtocolException(ProtocolError.REPEAT_TOO_LARGE, "too many requests in this message ("
                    + Integer.toUnsignedString(repeat) + "); at most " + ControlHeader.MAX_COMMANDS_PER_MESSAGE
                    + " are allowed");
        }
        int records = checkPayload(type, length, repeat);

        received.skipBytes(ControlHeader.SIZE);
        if (type == ControlType.QEMU_FILE) {
            return new ControlMessage(type, repeat, List.of(), received.readRetainedSlice(length));
        }
        List<ControlRecord> decoded = new ArrayList<>(records);
        for (int i = 0; i < records; i++) {
            decoded.add(decodeRecord(type, received));
        }
        return new ControlMessage(type, repeat, decoded, null);
    }

    /** Validates the payload shape and returns the number of records to decode. */
    private static int checkPayload(ControlType type, int length, int repeat) {
        switch (type) {
            case NONE -> throw new ProtocolException(ProtocolError.UNEXPECTED_TYPE,
                    "control message type " + type + " is never sent");
            case ERROR, READY, RAM_BLOCKS_REQUEST, REGISTER_FINISHED, UNREGISTER_FINISHED -> {
                if (length != 0) {
                    throw new ProtocolException(ProtocolError.UNEXPECTED_PAYLOAD,
                            type + " carries no payload, but " + length + " bytes arrived");
                }
                return 0;
            }
            case QEMU_FILE -> {
                if (length == 0) {
                    throw new ProtocolException(ProtocolError.EMPTY_PAYLOAD, type + " message carries no data");
                }
                return 0;
            }
            default -> {
                // Record-carrying types.
            }
        }
        int size = type.recordSize();
        if (length % size != 0) {
            throw new ProtocolException(ProtocolError.PAYLOAD_NOT_WHOLE_RECORDS, type + " payload of " + length
                    + " bytes is not a whole number of " + size + "-byte records");
        }
        int count = length / size;
        switch (type) {
            case RAM_BLOCKS_RESULT -> {
                // The source derives the block count from len, as QEMU does; repeat is not consulted.
                return count;
            }
            case COMPRESS -> {
                if (count != 1) {
                    throw new ProtocolException(ProtocolError.RECORD_COUNT_MISMATCH,
                            type + " carries exactly one record, but " + count + " arrived");
                }
                return 1;
            }
            default -> {
                if (count == 0) {
                    throw new ProtocolException(ProtocolError.RECORD_COUNT_MISMATCH, type + " carries no records");
                }
                // QEMU's destination always writes len = 16 in REGISTER RESULT, whatever the repeat
                // (spec section 3.2): accept one result under a larger repeat.
                boolean qemuResultQuirk = type == ControlType.REGISTER_RESULT && count == 1
                        && Integer.compareUnsigned(repeat, 1) > 0;
                if (count != repeat && !qemuResultQuirk) {
                    throw new ProtocolException(ProtocolError.RECORD_COUNT_MISMATCH, type + " carries " + count
                            + (count == 1 ? " record" : " records") + ", but repeat is "
                            + Integer.toUnsignedString(repeat));
                }
                return count;
            }
        }
    }

    private static ControlRecord decodeRecord(ControlType type, ByteBuf in) {
        return switch (type) {
            case RAM_BLOCKS_RESULT -> RemoteBlock.decode(in);
            case COMPRESS -> Compress.decode(in);
            case REGISTER_REQUEST, UNREGISTER_REQUEST -> RegisterRequest.decode(in);
            case REGISTER_RESULT -> RegisterResult.decode(in);
            default -> throw new AssertionError("no records for " + type);
        };
    }
}
