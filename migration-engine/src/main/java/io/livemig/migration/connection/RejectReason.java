package io.livemig.migration.connection;

import java.nio.ByteBuffer;

/**
 * Why a livemig destination rejected a connect request, carried in the CM reject's private data so that the source
 * can say so: the magic "LMRJ" (0x4c4d524a) then one byte, the reason's code. QEMU's destination never rejects
 * explicitly, so a reject without this magic is some other peer's (see {@code docs/security.md}).
 */
public enum RejectReason {
    /** The capabilities could not be read or name another protocol version. */
    CAPABILITIES(1),
    /** The destination has a key and the request had no valid, fresh, unseen proof of it. */
    AUTHENTICATION(2),
    /** The destination is serving another migration on this address. */
    BUSY(3),
    /**
     * An extra channel's connect ({@code multifd}) named no migration the destination is running: a stranger's, or
     * one that came after the migration ended.
     */
    UNKNOWN_SESSION(4);

    /** "LMRJ". */
    static final int MAGIC = 0x4c4d524a;
    /** Bytes of the encoded reason. */
    static final int SIZE = 5;

    private final int code;

    RejectReason(int code) {
        this.code = code;
    }

    /**
     * The reject's private data.
     *
     * @return magic and code, 5 bytes
     */
    public byte[] toPrivateData() {
        return ByteBuffer.allocate(SIZE).putInt(MAGIC).put((byte) code).array();
    }

    /**
     * Reads a reject's private data (on InfiniBand and RoCE zero-padded to 148 bytes).
     *
     * @param privateData the reject's private data
     * @return the reason, or {@code null} when it is not a livemig reason
     */
    public static RejectReason read(byte[] privateData) {
        if (privateData.length < SIZE) {
            return null;
        }
        ByteBuffer in = ByteBuffer.wrap(privateData);
        if (in.getInt() != MAGIC) {
            return null;
        }
        int code = in.get();
        for (RejectReason reason : values()) {
            if (reason.code == code) {
                return reason;
            }
        }
        return null;
    }
}
