package io.livemig.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --auth-key-file} on both commands, in this JVM: who the destination lets in, what each end says, and the
 * key file refused before anything is allocated or listens.
 */
class AuthKeyFileTest {

    private static final String NL = System.lineSeparator();

    @TempDir
    Path dir;

    /** One command in a thread of its own, standard output and error apart. */
    private record Running(CompletableFuture<Integer> status, ByteArrayOutputStream out, ByteArrayOutputStream err) {
        static Running start(String... args) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            return new Running(CompletableFuture.supplyAsync(() -> Livemig.run(args,
                    new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8))), out, err);
        }

        String output() {
            return out.toString(StandardCharsets.UTF_8);
        }

        String errors() {
            return err.toString(StandardCharsets.UTF_8);
        }

        int exit() throws Exception {
            return status.get(30, TimeUnit.SECONDS);
        }

        void awaitOutput(String text) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!output().contains(text)) {
                assertThat(System.nanoTime()).as("no '" + text + "' in: " + output()).isLessThan(deadline);
                assertThat(status.isDone()).as("exited without '" + text + "': " + output() + errors()).isFalse();
                Thread.sleep(10);
            }
        }
    }

    private Path keyFile(String name, String content, String mode) throws Exception {
        Path path = dir.resolve(name);
        Files.writeString(path, content);
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(mode));
        return path;
    }

    @Test
    void aDestinationWithAKeyRejectsOtherSourcesSayingWhoThenTheKeyedSourceMigrates() throws Exception {
        Path key = keyFile("key", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", "rw-------");
        Path other = keyFile("other", "ffeeddccbbaa99887766554433221100\n", "r--------");
        int port = LivemigProcess.freePort();
        Running destination = Running.start("destination", "--incoming", "rdma:127.0.0.1:" + port, "--verify",
                "--ram", "64M", "--progress", "none", "--auth-key-file", key.toString());
        try {
            destination.awaitOutput("listening on rdma:127.0.0.1:" + port);
            String refused = "livemig source: migration failed: the destination at 127.0.0.1:" + port
                    + " rejected the connection: authentication failed (check --auth-key-file on both ends)" + NL;
            Running stranger = Running.start("source", "--ram", "4M", "--verify", "--max-bandwidth", "0",
                    "--migrate", "rdma:127.0.0.1:" + port, "--progress", "none");
            assertThat(stranger.exit()).isEqualTo(1);
            assertThat(stranger.errors()).isEqualTo(refused);
            Running wrong = Running.start("source", "--ram", "4M", "--verify", "--max-bandwidth", "0",
                    "--migrate", "rdma:127.0.0.1:" + port, "--progress", "none", "--auth-key-file", other.toString());
            assertThat(wrong.exit()).isEqualTo(1);
            assertThat(wrong.errors()).isEqualTo(refused);

            Running owner = Running.start("source", "--ram", "4M", "--verify", "--max-bandwidth", "0",
                    "--migrate", "rdma:127.0.0.1:" + port, "--progress", "none", "--auth-key-file", key.toString());
            assertThat(owner.exit()).as(owner.errors()).isZero();
            assertThat(destination.exit()).as(destination.errors()).isZero();
        } finally {
            destination.status().cancel(true);
        }
        assertThat(destination.output()).contains("verification passed");
        assertThat(destination.errors()).matches(
                "livemig destination: rejected 127\\.0\\.0\\.1:\\d+: authentication failed: no authentication proof "
                        + "\\(the source has no --auth-key-file\\?\\)" + NL
                + "livemig destination: rejected 127\\.0\\.0\\.1:\\d+: authentication failed: wrong authentication "
                        + "proof \\(another key\\?\\)" + NL);
    }

    @Test
    void aDestinationWithoutAKeySaysOnceThatItAcceptsAnyone() throws Exception {
        int port = LivemigProcess.freePort();
        Running destination = Running.start("destination", "--incoming", "rdma:127.0.0.1:" + port, "--ram", "64M",
                "--progress", "none");
        try {
            destination.awaitOutput("listening on rdma:127.0.0.1:" + port);
            Running source = Running.start("source", "--ram", "4M", "--max-bandwidth", "0", "--migrate",
                    "rdma:127.0.0.1:" + port, "--progress", "none");
            assertThat(source.exit()).as(source.errors()).isZero();
            assertThat(destination.exit()).as(destination.errors()).isZero();
        } finally {
            destination.status().cancel(true);
        }
        assertThat(destination.errors())
                .isEqualTo("livemig destination: accepting migrations from anyone (no --auth-key-file)" + NL);
    }

    @Test
    void aShortKeyIsRefusedBeforeTheRamIsAllocated() throws Exception {
        Path key = keyFile("short", "0011223344556677\n", "rw-------");
        Running source = Running.start("source", "--ram", "4M", "--migrate", "rdma:127.0.0.1:1", "--auth-key-file",
                key.toString());
        assertThat(source.exit()).isEqualTo(1);
        assertThat(source.errors()).isEqualTo("livemig source: auth key file " + key + " holds a 8-byte key; at "
                + "least 16 bytes are needed (for example: head -c 32 /dev/urandom > " + key + ")" + NL);
        assertThat(source.output()).isEmpty();
    }

    @Test
    void aKeyOthersCanReadIsRefusedBeforeTheDestinationListens() throws Exception {
        Path key = keyFile("shared", "00112233445566778899aabbccddeeff", "rw-r--r--");
        Running destination = Running.start("destination", "--incoming", "rdma:127.0.0.1:0", "--auth-key-file",
                key.toString());
        assertThat(destination.exit()).isEqualTo(1);
        assertThat(destination.errors()).isEqualTo("livemig destination: auth key file " + key + " is readable by "
                + "group or others; make it private (chmod 600 " + key + ")" + NL);
        assertThat(destination.output()).isEmpty();
    }

    @Test
    void aMissingKeyFileIsRefusedByTheDemo() throws Exception {
        Path key = dir.resolve("absent");
        Running demo = Running.start("demo", "--ram", "4M", "--auth-key-file", key.toString());
        assertThat(demo.exit()).isEqualTo(1);
        assertThat(demo.errors()).isEqualTo("livemig demo: cannot read auth key file " + key + ": no such file" + NL);
        assertThat(demo.output()).isEmpty();
    }

    @Test
    void theDemoMigratesWithAKey() throws Exception {
        Path key = keyFile("key", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n", "rw-------");
        Running demo = Running.start("demo", "--ram", "8M", "--progress", "none", "--auth-key-file", key.toString());
        assertThat(demo.exit()).as(demo.errors()).isZero();
        assertThat(demo.output()).contains("and an auth key", "verification passed");
    }
}
