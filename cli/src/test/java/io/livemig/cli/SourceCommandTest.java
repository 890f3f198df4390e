package io.livemig.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SourceCommandTest {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Livemig.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void aMigrationToNowhereFailsWithTheFinalReportAndOneErrorLine() throws Exception {
        int port = LivemigProcess.freePort();
        assertThat(run("source", "--ram", "4M", "--timeout", "5", "--progress", "none", "--migrate",
                "rdma:127.0.0.1:" + port)).isEqualTo(1);
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("Migration status: failed");
        assertThat(err.toString(StandardCharsets.UTF_8)).startsWith("livemig source: migration failed: ")
                .contains("127.0.0.1:" + port).hasLineCount(1);
    }

    @Test
    void refusesARamFileForABlockItDoesNotHave() {
        assertThat(run("source", "--ram", "4M", "--ram-file", "vga.vram=/tmp/nowhere", "--migrate",
                "rdma:127.0.0.1:1")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("livemig source: --ram-file names RAM block "
                + "'vga.vram', which is not one of [pc.ram] (see 'livemig source --help')" + System.lineSeparator());
    }

    @Test
    void rejectsAWorkloadItDoesNotKnow() {
        assertThat(run("source", "--ram", "4M", "--workload", "memtest")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("livemig source: --workload takes none or "
                + "stress, not 'memtest' (see 'livemig source --help')" + System.lineSeparator());
    }
}
