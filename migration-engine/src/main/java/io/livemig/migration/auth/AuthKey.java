package io.livemig.migration.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A shared migration key: at least {@link #MIN_BYTES} bytes known to both ends. Never printed: {@link #toString()}
 * names only its length.
 */
public final class AuthKey {

    /** The shortest key accepted: 128 bits, HMAC-SHA256's security floor for a random key. */
    public static final int MIN_BYTES = 16;
    /** Longest key file read (a key is a few dozen bytes; a larger file is a wrong path). */
    static final int MAX_FILE_BYTES = 4096;

    private static final Pattern HEX = Pattern.compile("(?:[0-9a-fA-F]{2})+");
    private static final Pattern BASE64 = Pattern.compile("[A-Za-z0-9+/]+={0,2}");

    private final byte[] bytes;

    private AuthKey(byte[] bytes) {
        this.bytes = bytes;
    }

    /**
     * A key from its bytes.
     *
     * @param bytes the key (copied)
     * @return the key
     * @throws IllegalArgumentException with fewer than {@link #MIN_BYTES} bytes:
     *     {@code the auth key has N bytes; at least 16 are needed}
     */
    public static AuthKey of(byte[] bytes) {
        if (bytes.length < MIN_BYTES) {
            throw new IllegalArgumentException("the auth key has " + bytes.length + " bytes; at least " + MIN_BYTES
                    + " are needed");
        }
        return new AuthKey(bytes.clone());
    }

    /**
     * Reads a key file ({@code --auth-key-file}). The file holds the key as hex text, as base64 text, or as raw
     * bytes: after stripping surrounding whitespace, text made only of an even number of hex digits is hex, text in
     * the base64 alphabet (with its padding) is base64, and anything else is taken byte for byte, unstripped. The
     * file must be readable by its owner only (mode 0600 or 0400): a key others can read is no secret, so it is
     * refused rather than warned about.
     *
     * @param path the file
     * @return the key
     * @throws IOException saying what is wrong, one sentence naming the path: it cannot be read, it is readable by
     *     group or others, it is too large, or it holds fewer than 16 bytes
     */
    public static AuthKey fromFile(Path path) throws IOException {
        String where = "auth key file " + path;
        byte[] content;
        try {
            checkPermissions(path, where);
            if (Files.size(path) > MAX_FILE_BYTES) {
                throw new IOException(where + " is larger than " + MAX_FILE_BYTES + " bytes; is it a key?");
            }
            content = Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            throw new IOException("cannot read " + where + ": no such file", e);
        } catch (java.nio.file.AccessDeniedException e) {
            throw new IOException("cannot read " + where + ": permission denied", e);
        }
        byte[] key = decode(content);
        if (key.length < MIN_BYTES) {
            throw new IOException(where + " holds a " + key.length + "-byte key; at least " + MIN_BYTES
                    + " bytes are needed (for example: head -c 32 /dev/urandom > " + path + ")");
        }
        return new AuthKey(key);
    }

    private static void checkPermissions(Path path, String where) throws IOException {
        Set<PosixFilePermission> permissions;
        try {
            permissions = Files.getPosixFilePermissions(path);
        } catch (UnsupportedOperationException e) {
            return; // Not a POSIX file system: nothing to check.
        }
        if (permissions.contains(PosixFilePermission.GROUP_READ)
                || permissions.contains(PosixFilePermission.OTHERS_READ)) {
            throw new IOException(where + " is readable by group or others; make it private (chmod 600 " + path
                    + ")");
        }
    }

    /** Hex, base64 or raw, as {@link #fromFile(Path)} describes. */
    static byte[] decode(byte[] content) {
        String text = new String(content, StandardCharsets.ISO_8859_1).strip();
        if (HEX.matcher(text).matches()) {
            return HexFormat.of().parseHex(text);
        }
        if (text.length() % 4 == 0 && BASE64.matcher(text).matches()) {
            return Base64.getDecoder().decode(text);
        }
        return content.clone();
    }

    /** The key bytes, for the MAC. */
    byte[] bytes() {
        return bytes.clone();
    }

    /**
     * The key's length.
     *
     * @return bytes
     */
    public int length() {
        return bytes.length;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof AuthKey key && java.security.MessageDigest.isEqual(bytes, key.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return "AuthKey[" + bytes.length + " bytes]";
    }
}
