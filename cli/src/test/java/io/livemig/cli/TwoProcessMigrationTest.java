package io.livemig.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.testing.QmpClient;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A destination and a source, each a {@code livemig} process of its own, over the soft provider on loopback,
 * driven as an operator drives QEMU: through the source's QMP socket, or HMP on its standard input. Memory
 * equality is checked with digests of both ends' {@code --ram-file}.
 */
class TwoProcessMigrationTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private LivemigProcess destination(int port) throws Exception {
        LivemigProcess destination = LivemigProcess.start("destination", "--incoming", "rdma:127.0.0.1:" + port,
                "--provider", "soft", "--verify", "--ram", "64M", "--ram-file", "pc.ram=" + dir.resolve("dst.ram"),
                "--progress", "lines");
        destination.awaitOutput("listening on rdma:127.0.0.1:" + port, TIMEOUT);
        return destination;
    }

    private static String[] source(Path ramFile, String... monitor) {
        String[] common = {"source", "--ram", "32M", "--ram-file", "pc.ram=" + ramFile, "--fill", "random",
            "--workload", "stress", "--vm-bytes", "16M", "--vm-keep", "--vm-rate", "32m", "--provider", "soft",
            "--timeout", "15", "--progress", "lines"};
        String[] all = new String[common.length + monitor.length];
        System.arraycopy(common, 0, all, 0, common.length);
        System.arraycopy(monitor, 0, all, common.length, monitor.length);
        return all;
    }

    @Test
    void aMigrationDrivenThroughQmpArrivesVerifiedAndByteForByte() throws Exception {
        int migrationPort = LivemigProcess.freePort();
        int qmpPort = LivemigProcess.freePort();
        try (LivemigProcess destination = destination(migrationPort);
                LivemigProcess source = LivemigProcess.start(source(dir.resolve("src.ram"), "--qmp",
                        "tcp:127.0.0.1:" + qmpPort))) {
            source.awaitOutput("QMP on ", TIMEOUT);
            try (QmpClient qmp = QmpClient.connect("127.0.0.1", qmpPort, TIMEOUT)) {
                assertThat(qmp.execute("{\"execute\": \"migrate-set-capabilities\", \"arguments\": {\"capabilities\": "
                        + "[{\"capability\": \"x-verify\", \"state\": true}]}}")).isEqualTo("{\"return\": {}}");
                assertThat(qmp.execute("{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"rdma:127.0.0.1:"
                        + migrationPort + "\"}}")).isEqualTo("{\"return\": {}}");
                assertThat(awaitEnd(qmp)).isEqualTo("completed");
                assertThat(destination.awaitExit(TIMEOUT)).as(destination.output()).isZero();
                assertThat(destination.output()).contains("verification passed");
                // Paused after completion (QEMU's postmigrate): the source's file is what it sent.
                assertThat(digest(dir.resolve("dst.ram"))).isEqualTo(digest(dir.resolve("src.ram")));
                qmp.execute("{\"execute\": \"quit\"}");
            }
            assertThat(source.awaitExit(TIMEOUT)).as(source.output()).isZero();
        }
    }

    @Test
    void aMigrationDrivenThroughHmpOnStandardInputArrivesVerifiedAndByteForByte() throws Exception {
        int migrationPort = LivemigProcess.freePort();
        try (LivemigProcess destination = destination(migrationPort);
                LivemigProcess source = LivemigProcess.start(source(dir.resolve("src.ram"), "--monitor", "stdio"))) {
            source.awaitOutput("workload: stress", TIMEOUT);
            source.send("migrate_set_capability x-verify on");
            source.send("migrate -d rdma:127.0.0.1:" + migrationPort);
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (!source.output().contains("Migration status: completed") && System.nanoTime() < deadline) {
                source.send("info migrate");
                Thread.sleep(200);
            }
            assertThat(source.output()).contains("Migration status: completed");
            assertThat(destination.awaitExit(TIMEOUT)).as(destination.output()).isZero();
            assertThat(destination.output()).contains("verification passed");
            assertThat(digest(dir.resolve("dst.ram"))).isEqualTo(digest(dir.resolve("src.ram")));
            source.send("quit");
            assertThat(source.awaitExit(TIMEOUT)).as(source.output()).isZero();
        }
    }

    private static String awaitEnd(QmpClient qmp) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        String status = null;
        while (System.nanoTime() < deadline) {
            status = qmp.migrationStatus();
            if ("completed".equals(status) || "failed".equals(status) || "cancelled".equals(status)) {
                return status;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("migration still " + status + " after " + TIMEOUT);
    }

    static String digest(Path file) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 20];
            int n;
            while ((n = in.read(buffer)) > 0) {
                sha.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
