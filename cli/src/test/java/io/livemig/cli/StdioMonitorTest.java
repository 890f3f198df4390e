package io.livemig.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code livemig source --monitor stdio} with commands piped in, as a script drives QEMU's
 * {@code -monitor stdio}: standard output is the HMP session, prompts with the commands echoed and their
 * answers, and nothing else after the start-up line; progress, when asked for, goes to standard error.
 */
class StdioMonitorTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final String RAM_LINE = "RAM: 4.0 MiB in 1 block\\(s\\), filled random in \\d+ ms";

    @Test
    void pipedCommandsReadAsASessionOfPromptsCommandsAndAnswers() throws Exception {
        try (LivemigProcess source = LivemigProcess.startApart(Map.of(), "source", "--ram", "4M", "--monitor",
                "stdio")) {
            source.send("migrate_set_capability x-verify on\ninfo migrate_capabilities");
            source.closeInput();
            assertThat(source.awaitExit(TIMEOUT)).as(source.output()).isZero();
            assertThat(source.output()).matches(RAM_LINE + "\n"
                    + "\\(livemig\\) migrate_set_capability x-verify on\n"
                    + "\\(livemig\\) info migrate_capabilities\n"
                    + "rdma-pin-all: off\nauto-converge: off\nx-verify: on\nevents: off\npause-before-switchover: off\n"
                    + "multifd: off\n"
                    + "\\(livemig\\) \n");
            assertThat(source.errors()).isEmpty();
        }
    }

    @Test
    void aMigrationDrivenFromPipedCommandsShowsTheReportOnceWhenAskedAndNothingElse() throws Exception {
        int port = LivemigProcess.freePort();
        try (LivemigProcess destination = destination(port);
                LivemigProcess source = LivemigProcess.startApart(Map.of(), "source", "--ram", "4M", "--monitor",
                        "stdio")) {
            // migrate without -d waits for the end, as QEMU's HMP does: the info migrate after it is the final one.
            source.send("migrate rdma:127.0.0.1:" + port + "\ninfo migrate\nquit");
            assertThat(source.awaitExit(TIMEOUT)).as(source.output() + source.errors()).isZero();
            assertThat(destination.awaitExit(TIMEOUT)).as(destination.output()).isZero();
            assertSession(source.output(), port);
            assertThat(source.errors()).isEmpty();
        }
    }

    @Test
    void progressAskedForWithAStdioMonitorGoesToStandardErrorWithoutTheReport() throws Exception {
        int port = LivemigProcess.freePort();
        try (LivemigProcess destination = destination(port);
                LivemigProcess source = LivemigProcess.startApart(Map.of(), "source", "--ram", "4M", "--monitor",
                        "stdio", "--progress", "lines")) {
            source.send("migrate rdma:127.0.0.1:" + port + "\ninfo migrate\nquit");
            assertThat(source.awaitExit(TIMEOUT)).as(source.output() + source.errors()).isZero();
            assertThat(destination.awaitExit(TIMEOUT)).as(destination.output()).isZero();
            assertSession(source.output(), port);
            List<String> progress = source.errors().lines().toList();
            assertThat(progress).isNotEmpty().allMatch(line -> line.startsWith("source: "));
            assertThat(progress.getLast()).startsWith("source: completed 100%, transferred ");
        }
    }

    /** The start-up line, the three commands, and the one report: key: value lines between the prompts. */
    private static void assertSession(String output, int port) {
        List<String> lines = output.lines().toList();
        assertThat(lines.getFirst()).matches(RAM_LINE);
        assertThat(lines.get(1)).isEqualTo("(livemig) migrate rdma:127.0.0.1:" + port);
        assertThat(lines.get(2)).isEqualTo("(livemig) info migrate");
        assertThat(lines.get(3)).isEqualTo("Migration status: completed");
        assertThat(lines.getLast()).isEqualTo("(livemig) quit");
        assertThat(lines.subList(3, lines.size() - 1)).allMatch(line -> line.matches("[A-Za-z -]+: .+"), "report lines");
        assertThat(output).containsOnlyOnce("Migration status:");
    }

    private static LivemigProcess destination(int port) throws Exception {
        LivemigProcess destination = LivemigProcess.start("destination", "--incoming", "rdma:127.0.0.1:" + port,
                "--ram", "64M", "--progress", "none");
        destination.awaitOutput("listening on ", TIMEOUT);
        return destination;
    }
}
