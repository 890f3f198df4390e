package io.livemig.migration.auth;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The source's proof that it holds the key, in the RDMA CM connect private data after QEMU's 8 capability bytes.
 * All 56 bytes a connect request carries on InfiniBand and RoCE are used; big-endian:
 *
 * <pre>
 * offset size field
 *      0    8 RDMACapabilities (version, flags), as QEMU sends them
 *      8    4 magic "LMA1" (0x4c4d4131): livemig authentication, layout 1
 *     12    8 timestamp, milliseconds since the Unix epoch, the source's clock
 *     20   12 nonce, random per connect
 *     32   24 HMAC-SHA256(key, bytes 0..31), its first 24 bytes
 * </pre>
 *
 * The MAC covers the capabilities, so a proof cannot be moved onto other capabilities. A QEMU destination reads only
 * the first 8 bytes (spec section 2.3) and ignores the rest.
 *
 * @param capabilities the 8 capability bytes
 * @param timestampMillis the source's clock when it signed
 * @param nonce 12 random bytes
 * @param mac the 24-byte truncated HMAC
 */
public record AuthProof(byte[] capabilities, long timestampMillis, byte[] nonce, byte[] mac) {

    /** Bytes of the whole private data: capabilities and proof. */
    public static final int SIZE = 56;
    /** "LMA1". */
    public static final int MAGIC = 0x4c4d4131;
    /** Bytes of the nonce. */
    public static final int NONCE_BYTES = 12;
    /** Bytes of the truncated MAC (192 bits). */
    public static final int MAC_BYTES = 24;
    /** Bytes the MAC covers: capabilities, magic, timestamp, nonce. */
    static final int SIGNED_BYTES = SIZE - MAC_BYTES;
    private static final int CAPABILITY_BYTES = 8;

    /**
     * Copies the arrays.
     *
     * @param capabilities the 8 capability bytes
     * @param timestampMillis the source's clock when it signed
     * @param nonce 12 random bytes
     * @param mac the 24-byte truncated HMAC
     */
    public AuthProof {
        if (capabilities.length != CAPABILITY_BYTES || nonce.length != NONCE_BYTES || mac.length != MAC_BYTES) {
            throw new IllegalArgumentException("capabilities, nonce and mac take 8, 12 and 24 bytes");
        }
        capabilities = capabilities.clone();
        nonce = nonce.clone();
        mac = mac.clone();
    }

    /**
     * Signs: the private data a source with a key connects with.
     *
     * @param key the shared key
     * @param capabilities the 8 capability bytes
     * @param timestampMillis now, in milliseconds since the epoch
     * @param nonce 12 random bytes
     * @return the proof
     */
    public static AuthProof sign(AuthKey key, byte[] capabilities, long timestampMillis, byte[] nonce) {
        AuthProof unsigned = new AuthProof(capabilities, timestampMillis, nonce, new byte[MAC_BYTES]);
        return new AuthProof(capabilities, timestampMillis, nonce, unsigned.expectedMac(key));
    }

    /**
     * Reads the proof that follows the capabilities.
     *
     * @param privateData the connect request's private data
     * @return the proof, or {@code null} when there is none (fewer than 56 bytes, or no magic at offset 8: a
     *     source without a key, or QEMU's)
     */
    public static AuthProof read(byte[] privateData) {
        if (privateData.length < SIZE) {
            return null;
        }
        ByteBuffer in = ByteBuffer.wrap(privateData);
        byte[] capabilities = new byte[CAPABILITY_BYTES];
        in.get(capabilities);
        if (in.getInt() != MAGIC) {
            return null;
        }
        long timestamp = in.getLong();
        byte[] nonce = new byte[NONCE_BYTES];
        in.get(nonce);
        byte[] mac = new byte[MAC_BYTES];
        in.get(mac);
        return new AuthProof(capabilities, timestamp, nonce, mac);
    }

    /**
     * The 56 bytes of private data.
     *
     * @return a new array
     */
    public byte[] toBytes() {
        return ByteBuffer.allocate(SIZE).put(signedBytes()).put(mac).array();
    }

    /**
     * Whether the MAC is the key's, compared in constant time.
     *
     * @param key the shared key
     * @return true when signed with {@code key}
     */
    public boolean signedWith(AuthKey key) {
        return MessageDigest.isEqual(mac, expectedMac(key));
    }

    private byte[] signedBytes() {
        return ByteBuffer.allocate(SIGNED_BYTES).put(capabilities).putInt(MAGIC).putLong(timestampMillis).put(nonce)
                .array();
    }

    private byte[] expectedMac(AuthKey key) {
        try {
            Mac hmac = Mac.getInstance("HmacSHA256");
            hmac.init(new SecretKeySpec(key.bytes(), "HmacSHA256"));
            return Arrays.copyOf(hmac.doFinal(signedBytes()), MAC_BYTES);
        } catch (GeneralSecurityException e) {
            // Every Java runtime has HmacSHA256 (a required algorithm); a failure here is a broken JDK.
            throw new IllegalStateException("HmacSHA256 is unavailable", e);
        }
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof AuthProof proof && Arrays.equals(toBytes(), proof.toBytes());
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(toBytes());
    }

    @Override
    public String toString() {
        return "AuthProof[timestamp=" + timestampMillis + ", nonce=" + java.util.HexFormat.of().formatHex(nonce) + "]";
    }
}
