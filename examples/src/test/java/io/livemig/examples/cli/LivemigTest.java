package io.livemig.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class LivemigTest {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Livemig.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void selfCheckPassesEveryVector() {
        assertThat(run("selfcheck")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8))
                .contains("  ok   REGISTER RESULT")
                .doesNotContain("FAIL")
                .endsWith("codec self-check passed: 18 passed, 0 failed" + System.lineSeparator());
    }

    @Test
    void printsTheVersion() {
        assertThat(run("--version")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("livemig 0.1.0-SNAPSHOT (QEMU RDMA migration");
    }

    @Test
    void rejectsAnUnknownCommandWithUsage() {
        assertThat(run("migrate")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).startsWith("livemig: unknown command 'migrate'")
                .contains("usage: livemig <command>");
    }
}
