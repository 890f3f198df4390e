package io.livemig.migration.protocol;

/**
 * The control message types of QEMU's RDMA migration protocol (spec section 3.2), with their wire
 * values and the display names QEMU prints in its errors.
 */
public enum ControlType {
    /** Never sent; "expect NONE" means "accept any type". */
    NONE(0, "NONE"),
    /** Either side aborts; no payload. */
    ERROR(1, "ERROR"),
    /** Credit: "a receive buffer is posted, you may SEND one message". */
    READY(2, "READY"),
    /** A piece (1 to 32768 bytes) of the ordinary QEMU migration byte stream. */
    QEMU_FILE(3, "QEMU FILE"),
    /** Source asks for the destination's RAM block table. */
    RAM_BLOCKS_REQUEST(4, "RAM BLOCKS REQUEST"),
    /** Destination's RAM block table: N {@link RemoteBlock}s. */
    RAM_BLOCKS_RESULT(5, "RAM BLOCKS RESULT"),
    /** A zero (or fill-byte) range the destination fills itself: one {@link Compress}. */
    COMPRESS(6, "COMPRESS"),
    /** Source asks the destination to register chunks: {@code repeat} {@link RegisterRequest}s. */
    REGISTER_REQUEST(7, "REGISTER REQUEST"),
    /** Destination's rkeys for a REGISTER REQUEST: {@code repeat} {@link RegisterResult}s. */
    REGISTER_RESULT(8, "REGISTER RESULT"),
    /** Source finished a round of RDMA writes: the destination leaves its registration loop. */
    REGISTER_FINISHED(9, "REGISTER FINISHED"),
    /** Source asks the destination to deregister chunks (never sent by current QEMU). */
    UNREGISTER_REQUEST(10, "UNREGISTER REQUEST"),
    /** Destination's acknowledgement of an UNREGISTER REQUEST. */
    UNREGISTER_FINISHED(11, "UNREGISTER FINISHED");

    private static final ControlType[] BY_VALUE = values();

    private final int value;
    private final String displayName;

    ControlType(int value, String displayName) {
        this.value = value;
        this.displayName = displayName;
    }

    /**
     * The value carried in the header's {@code type} field.
     *
     * @return the wire value, 0 to 11
     */
    public int value() {
        return value;
    }

    /**
     * The name QEMU uses for this type in its messages, such as {@code "QEMU FILE"}.
     *
     * @return the display name
     */
    public String displayName() {
        return displayName;
    }

    /**
     * The record size of this type's payload, or 0 when it carries no records.
     *
     * @return bytes per payload record (QEMU FILE: 0, its payload is a byte stream)
     */
    public int recordSize() {
        return switch (this) {
            case RAM_BLOCKS_RESULT -> RemoteBlock.SIZE;
            case COMPRESS -> Compress.SIZE;
            case REGISTER_REQUEST, UNREGISTER_REQUEST -> RegisterRequest.SIZE;
            case REGISTER_RESULT -> RegisterResult.SIZE;
            default -> 0;
        };
    }

    /**
     * Looks a type up by its wire value.
     *
     * @param value the header's {@code type} field
     * @return the type
     * @throws ProtocolException ({@link ProtocolError#UNKNOWN_TYPE}) for any other value
     */
    public static ControlType fromValue(int value) {
        if (value < 0 || value >= BY_VALUE.length) {
            throw new ProtocolException(ProtocolError.UNKNOWN_TYPE,
                    "unknown control message type " + Integer.toUnsignedString(value)
                            + " (known types are 0 to " + (BY_VALUE.length - 1) + ")");
        }
        return BY_VALUE[value];
    }

    /**
     * Renders a type as QEMU does in its errors: {@code "REGISTER RESULT (8)"}.
     *
     * @return display name and value
     */
    @Override
    public String toString() {
        return displayName + " (" + value + ")";
    }
}
