package io.livemig.migration.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Key files: hex, base64 or raw; at least 16 bytes; readable by the owner only. */
class AuthKeyTest {

    private static final byte[] KEY = HexFormat.of().parseHex("00112233445566778899aabbccddeeff0123456789abcdef");

    @TempDir
    Path dir;

    private Path file(String name, byte[] content, String mode) throws IOException {
        Path path = dir.resolve(name);
        Files.write(path, content);
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(mode));
        return path;
    }

    @Test
    void readsHexTextWithATrailingNewline() throws IOException {
        Path path = file("hex", (HexFormat.of().formatHex(KEY) + "\n").getBytes(StandardCharsets.US_ASCII),
                "rw-------");
        assertThat(AuthKey.fromFile(path)).isEqualTo(AuthKey.of(KEY));
    }

    @Test
    void readsBase64Text() throws IOException {
        Path path = file("b64", (java.util.Base64.getEncoder().encodeToString(KEY) + "\n").getBytes(),
                "r--------");
        assertThat(AuthKey.fromFile(path)).isEqualTo(AuthKey.of(KEY));
    }

    @Test
    void readsRawBytesAsTheyAre() throws IOException {
        byte[] raw = new byte[32];
        for (int i = 0; i < raw.length; i++) {
            raw[i] = (byte) (0x80 + i * 3);
        }
        raw[31] = '\n'; // Raw keys keep every byte, whitespace included.
        assertThat(AuthKey.fromFile(file("raw", raw, "rw-------"))).isEqualTo(AuthKey.of(raw));
    }

    @Test
    void refusesAKeyShorterThanSixteenBytes() throws IOException {
        Path path = file("short", "00112233445566778899aabbccddee\n".getBytes(), "rw-------");
        assertThatThrownBy(() -> AuthKey.fromFile(path)).isInstanceOf(IOException.class)
                .hasMessage("auth key file " + path + " holds a 15-byte key; at least 16 bytes are needed "
                        + "(for example: head -c 32 /dev/urandom > " + path + ")");
        assertThatThrownBy(() -> AuthKey.of(new byte[15])).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("the auth key has 15 bytes; at least 16 are needed");
    }

    @Test
    void refusesAFileThatGroupOrOthersCanRead() throws IOException {
        for (String mode : new String[] {"rw-r-----", "rw----r--"}) {
            Path path = file("shared-" + mode, KEY, mode);
            assertThatThrownBy(() -> AuthKey.fromFile(path)).isInstanceOf(IOException.class)
                    .hasMessage("auth key file " + path + " is readable by group or others; make it private "
                            + "(chmod 600 " + path + ")");
        }
    }

    @Test
    void aMissingFileSaysSo() {
        Path path = dir.resolve("nothing-here");
        assertThatThrownBy(() -> AuthKey.fromFile(path)).isInstanceOf(IOException.class)
                .hasMessage("cannot read auth key file " + path + ": no such file");
    }

    @Test
    void aLargeFileIsNotAKey() throws IOException {
        Path path = file("large", new byte[AuthKey.MAX_FILE_BYTES + 1], "rw-------");
        assertThatThrownBy(() -> AuthKey.fromFile(path)).isInstanceOf(IOException.class)
                .hasMessage("auth key file " + path + " is larger than 4096 bytes; is it a key?");
    }

    @Test
    void neverPrintsTheKey() {
        assertThat(AuthKey.of(KEY)).hasToString("AuthKey[24 bytes]");
    }
}
