package io.livemig.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.livemig.transport.rdma.verbs.Verbs;
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

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
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
    void listsEveryCommandInTheHelp() {
        assertThat(run("--help")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("destination", "source", "demo", "bench",
                "selfcheck");
    }

    @Test
    void theHelpCommandPrintsTheUsageOfLivemigOrOfACommand() {
        // The image's entrypoint and its smoke test run `livemig help`.
        assertThat(run("help")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("Usage: livemig [-hV] [COMMAND]");
        out.reset();
        assertThat(run("help", "destination")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("Usage: livemig destination").contains("--incoming");
    }

    @Test
    void rejectsAnUnknownCommandInOneLine() {
        assertThat(run("migrate")).isEqualTo(2);
        assertThat(err()).isEqualTo("livemig: unknown command 'migrate' (see 'livemig --help')"
                + System.lineSeparator());
    }

    @Test
    void rejectsABadSizeSuffix() {
        assertThat(run("source", "--ram", "1x")).isEqualTo(2);
        assertThat(err()).isEqualTo("livemig source: Invalid value for option '--ram': invalid size '1x': expected a "
                + "whole number with an optional K, M, G or T suffix (e.g. 256M) (see 'livemig source --help')"
                + System.lineSeparator());
    }

    @Test
    void benchRefusesANonPositiveRepeatBeforeMeasuringAnything() {
        assertThat(run("bench", "--repeat", "0")).isEqualTo(2);
        assertThat(err()).isEqualTo("livemig bench: --repeat takes a positive count, not 0 (see 'livemig bench --help')"
                + System.lineSeparator());
    }

    @Test
    void benchRefusesAnUnknownModeAndAChannelCountOutOfRangeBeforeMeasuringAnything() {
        assertThat(run("bench", "--modes", "dynamic,fast")).isEqualTo(2);
        assertThat(err()).isEqualTo("livemig bench: --modes takes dynamic, pin-all, budget and multifd, not 'fast' (see"
                + " 'livemig bench --help')" + System.lineSeparator());
        err.reset();
        assertThat(run("bench", "--modes", "multifd", "--multifd-channels", "1")).isEqualTo(2);
        assertThat(err()).isEqualTo("livemig bench: --multifd-channels takes 2 to 255, not 1 (see 'livemig bench"
                + " --help')" + System.lineSeparator());
    }

    @Test
    void rejectsAMigrationUriThatIsNotRdma() {
        assertThat(run("source", "--ram", "1M", "--migrate", "tcp:x")).isEqualTo(2);
        assertThat(err()).isEqualTo("livemig source: Invalid value for option '--migrate': unsupported migration "
                + "transport 'tcp' in 'tcp:x'; livemig migrates over rdma:HOST:PORT (see 'livemig source --help')"
                + System.lineSeparator());
    }

    @Test
    void rejectsAnUnknownOption() {
        assertThat(run("destination", "--incoming", "rdma:127.0.0.1:0", "--frobnicate")).isEqualTo(2);
        assertThat(err()).isEqualTo("livemig destination: Unknown option: '--frobnicate' (see 'livemig destination "
                + "--help')" + System.lineSeparator());
    }

    @Test
    void requiresTheIncomingUri() {
        assertThat(run("destination")).isEqualTo(2);
        assertThat(err()).startsWith("livemig destination: Missing required option: '--incoming=rdma:HOST:PORT'")
                .hasLineCount(1);
    }

    @Test
    void failsFastInOneLineWhenTheVerbsProviderHasNoDevice() {
        assumeFalse(Verbs.providers().stream().anyMatch(p -> p.name().equals("verbs") && p.isAvailable()),
                "an RDMA device is present");
        assertThat(run("source", "--ram", "1M", "--provider", "verbs")).isEqualTo(1);
        assertThat(err()).startsWith("livemig source: RDMA provider 'verbs' is unavailable: ").hasLineCount(1);
        assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    @Test
    void asksForTheRamSize() {
        assertThat(run("source")).isEqualTo(2);
        assertThat(err()).isEqualTo("livemig source: give the RAM size with --ram SIZE (or --blocks NAME:SIZE,...) "
                + "(see 'livemig source --help')" + System.lineSeparator());
    }
}
