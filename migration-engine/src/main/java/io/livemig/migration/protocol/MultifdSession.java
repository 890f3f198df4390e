package io.livemig.migration.protocol;

import java.nio.ByteBuffer;
import java.security.SecureRandom;

/**
 * The id that ties a migration's extra channels ({@code multifd}) to its first connection. A livemig destination that
 * echoes {@link Capabilities#MULTIFD} makes a random one and sends it after the 8 capability bytes of its accept
 * (16 bytes in all); each extra connect of the source carries the 8 id bytes in place of the capabilities, followed,
 * when a key is set, by the rest of an {@link io.livemig.migration.auth.AuthProof} signed over them (56 bytes, CM's
 * limit for a connect). The id's top bit is always set, so its first four bytes never read as protocol version 1:
 * the destination tells an extra channel from a new migration by that bit alone.
 *
 * @param id the 64-bit id; negative (top bit set)
 */
public record MultifdSession(long id) {

    /** Encoded size in bytes. */
    public static final int SIZE = 8;

    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * Checks the marker bit.
     *
     * @param id the id
     * @throws IllegalArgumentException when the top bit is clear
     */
    public MultifdSession {
        if (id >= 0) {
            throw new IllegalArgumentException("a multifd session id has its top bit set, got 0x"
                    + Long.toHexString(id));
        }
    }

    /**
     * A fresh random id (63 random bits).
     *
     * @return the session
     */
    public static MultifdSession random() {
        return new MultifdSession(RANDOM.nextLong() | Long.MIN_VALUE);
    }

    /**
     * Whether a connect request's private data opens an extra channel (its first byte has the top bit set) rather
     * than a migration (version 1 capabilities, or fewer than 8 bytes).
     *
     * @param privateData the CONNECT_REQUEST's private data
     * @return true for an extra channel's connect
     */
    public static boolean isChannelConnect(byte[] privateData) {
        return privateData.length >= SIZE && (privateData[0] & 0x80) != 0;
    }

    /**
     * Reads the id from the first 8 bytes of an extra channel's connect.
     *
     * @param privateData the CONNECT_REQUEST's private data, {@link #isChannelConnect} true
     * @return the session
     * @throws IllegalArgumentException when it is no extra channel's connect
     */
    public static MultifdSession fromConnect(byte[] privateData) {
        if (!isChannelConnect(privateData)) {
            throw new IllegalArgumentException("not an extra channel's connect");
        }
        return new MultifdSession(ByteBuffer.wrap(privateData).getLong());
    }

    /**
     * Reads the id after the capabilities of a destination's accept.
     *
     * @param privateData the ESTABLISHED event's private data
     * @return the session, or {@code null} when the accept carries none (fewer than 16 bytes or no marker bit: the
     *     source then uses one channel)
     */
    public static MultifdSession fromAccept(byte[] privateData) {
        if (privateData.length < Capabilities.SIZE + SIZE) {
            return null;
        }
        long id = ByteBuffer.wrap(privateData, Capabilities.SIZE, SIZE).getLong();
        return id < 0 ? new MultifdSession(id) : null;
    }

    /**
     * The destination's accept: the negotiated capabilities, then the id.
     *
     * @param negotiated the capabilities the destination echoes
     * @return 16 bytes
     */
    public byte[] acceptPrivateData(Capabilities negotiated) {
        return ByteBuffer.allocate(Capabilities.SIZE + SIZE).put(negotiated.toBytes()).putLong(id).array();
    }

    /**
     * The 8 id bytes, big-endian: an extra channel's connect without a key, and what its proof signs with one.
     *
     * @return 8 bytes
     */
    public byte[] toBytes() {
        return ByteBuffer.allocate(SIZE).putLong(id).array();
    }

    @Override
    public String toString() {
        return "MultifdSession[" + Long.toHexString(id) + "]";
    }
}
