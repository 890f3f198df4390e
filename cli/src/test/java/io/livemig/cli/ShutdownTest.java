package io.livemig.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Stopping {@code livemig} processes in each phase, as an operator does: {@code quit}, the end of
 * {@code --monitor stdio} input, or SIGTERM (the signal {@link Process#destroy()} sends). Each ends with the status docs/cli.md
 * gives and at most one plain line on standard error: no stack trace, no class name, no Reactor noise. A
 * migration is slowed down by {@code max-bandwidth} so that it is stopped in its bulk round.
 */
class ShutdownTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    /** 16 MiB at 4 MiB/s: a bulk round of 4 s, with a progress line every second. */
    private static final String[] SLOW_SOURCE = {"source", "--ram", "16M", "--max-bandwidth", "4M", "--timeout", "10",
        "--monitor", "stdio", "--progress", "lines"};
    private static final String MID_ROUND = "source: active [1-9][0-9]?%.*round 1";
    /** What a destination without --auth-key-file says first on standard error. */
    private static final String ANYONE = "livemig destination: accepting migrations from anyone (no --auth-key-file)\n";
    private static final String PEER_FAILED = "livemig destination: migration failed: peer sent ERROR: it failed or "
            + "cancelled the migration\n";

    @Test
    void aWaitingSourceExitsZeroSilentlyOnSigterm() throws Exception {
        try (LivemigProcess source = LivemigProcess.startApart(Map.of(), "source", "--ram", "4M", "--monitor",
                "stdio")) {
            source.awaitOutput("\\(livemig\\) $", TIMEOUT);
            source.terminate();
            assertThat(source.awaitExit(TIMEOUT)).as(source.output() + source.errors()).isZero();
            assertThat(source.errors()).isEmpty();
            assertThat(source.output()).endsWith("\n(livemig) ");
        }
    }

    @Test
    void aSourceMigratingExitsZeroOnQuitAndTheDestinationFailsInOneLine() throws Exception {
        stopAMigratingSource(source -> source.send("quit"));
    }

    @Test
    void aSourceMigratingExitsZeroOnSigterm() throws Exception {
        stopAMigratingSource(LivemigProcess::terminate);
    }

    private void stopAMigratingSource(Stop stop) throws Exception {
        int port = LivemigProcess.freePort();
        try (LivemigProcess destination = destination(port);
                LivemigProcess source = LivemigProcess.startApart(Map.of(), SLOW_SOURCE)) {
            source.send("migrate -d rdma:127.0.0.1:" + port);
            awaitErrors(source, MID_ROUND);
            stop.stop(source);
            assertThat(source.awaitExit(TIMEOUT)).as(source.output() + source.errors()).isZero();
            assertQuiet(source);
            assertThat(destination.awaitExit(TIMEOUT)).as(destination.output()).isEqualTo(1);
            assertThat(destination.errors()).isEqualTo(ANYONE + PEER_FAILED);
        }
    }

    @Test
    void aSourceWithMigrateExitsOneInOneLineOnSigterm() throws Exception {
        int port = LivemigProcess.freePort();
        try (LivemigProcess destination = destination(port);
                LivemigProcess source = LivemigProcess.startApart(Map.of(), "source", "--ram", "16M",
                        "--max-bandwidth", "4M", "--progress", "lines", "--migrate", "rdma:127.0.0.1:" + port)) {
            source.awaitOutput(MID_ROUND, TIMEOUT);
            source.terminate();
            assertThat(source.awaitExit(TIMEOUT)).as(source.output() + source.errors()).isEqualTo(1);
            assertThat(source.errors()).isEqualTo("livemig source: migration cancelled\n");
            // --migrate's final report, once.
            assertThat(source.output()).containsOnlyOnce("Migration status: cancelled\n");
            assertThat(destination.awaitExit(TIMEOUT)).as(destination.output()).isEqualTo(1);
            assertThat(destination.errors()).isEqualTo(ANYONE + PEER_FAILED);
        }
    }

    @Test
    void theEndOfInputRightAfterMigrateStopsTheMigrationInItsSetupAndExitsZero() throws Exception {
        int port = LivemigProcess.freePort();
        try (LivemigProcess destination = destination(port);
                LivemigProcess source = LivemigProcess.startApart(Map.of(), SLOW_SOURCE)) {
            source.send("migrate -d rdma:127.0.0.1:" + port);
            source.closeInput();
            assertThat(source.awaitExit(TIMEOUT)).as(source.output() + source.errors()).isZero();
            assertQuiet(source);
            destination.terminate();
            // The destination failed (the source's ERROR), or never saw the migration start.
            assertThat(destination.awaitExit(TIMEOUT)).as(destination.output()).isEqualTo(1);
            assertThat(destination.errors()).isIn(ANYONE + PEER_FAILED,
                    ANYONE + "livemig destination: terminated before a migration completed\n");
        }
    }

    @Test
    void aSourcePausedBeforeTheSwitchoverExitsZeroOnSigterm() throws Exception {
        int port = LivemigProcess.freePort();
        try (LivemigProcess destination = destination(port);
                LivemigProcess source = LivemigProcess.startApart(Map.of(), "source", "--ram", "4M", "--monitor",
                        "stdio", "--progress", "lines")) {
            source.send("migrate_set_capability pause-before-switchover on\nmigrate -d rdma:127.0.0.1:" + port);
            awaitErrors(source, "source: pre-switchover");
            source.terminate();
            assertThat(source.awaitExit(TIMEOUT)).as(source.output() + source.errors()).isZero();
            assertQuiet(source);
            assertThat(destination.awaitExit(TIMEOUT)).as(destination.output()).isEqualTo(1);
            assertThat(destination.errors()).isEqualTo(ANYONE + PEER_FAILED);
        }
    }

    @Test
    void aWaitingDestinationExitsOneInOneLineOnSigterm() throws Exception {
        int port = LivemigProcess.freePort();
        try (LivemigProcess destination = destination(port)) {
            destination.terminate();
            assertThat(destination.awaitExit(TIMEOUT)).as(destination.output()).isEqualTo(1);
            assertThat(destination.errors()).isEqualTo(ANYONE + "livemig destination: terminated before a migration "
                    + "completed\n");
            assertThat(destination.output()).isEqualTo("listening on rdma:127.0.0.1:" + port + "\n");
        }
    }

    @Test
    void aWaitingDestinationExitsOneInOneLineAtTheEndOfItsMonitorInput() throws Exception {
        int port = LivemigProcess.freePort();
        try (LivemigProcess destination = LivemigProcess.startApart(Map.of(), "destination", "--incoming",
                "rdma:127.0.0.1:" + port, "--monitor", "stdio")) {
            destination.awaitOutput("\\(livemig\\) $", TIMEOUT);
            destination.closeInput();
            assertThat(destination.awaitExit(TIMEOUT)).as(destination.output()).isEqualTo(1);
            assertThat(destination.errors()).isEqualTo(ANYONE + "livemig destination: quit before a migration completed\n");
            assertThat(destination.output()).isEqualTo("listening on rdma:127.0.0.1:" + port + "\n(livemig) \n");
        }
    }

    @Test
    void aReceivingDestinationExitsOneInOneLineOnSigtermAndTheSourceGoesOn() throws Exception {
        int port = LivemigProcess.freePort();
        try (LivemigProcess destination = destination(port);
                LivemigProcess source = LivemigProcess.startApart(Map.of(), SLOW_SOURCE)) {
            source.send("migrate -d rdma:127.0.0.1:" + port);
            awaitErrors(source, MID_ROUND);
            destination.terminate();
            assertThat(destination.awaitExit(TIMEOUT)).as(destination.output()).isEqualTo(1);
            assertThat(destination.errors()).isEqualTo(ANYONE + "livemig destination: terminated before a migration "
                    + "completed\n");
            // The destination sent ERROR and closed: the source's migration failed on whichever it saw first (the
            // source's reason is its own), and the source waits for more commands.
            awaitErrors(source, "source: failed");
            source.send("info migrate");
            source.awaitOutput("Migration status: failed \\(.+\\)\n", TIMEOUT);
            source.send("quit");
            assertThat(source.awaitExit(TIMEOUT)).as(source.output() + source.errors()).isZero();
            assertQuiet(source);
        }
    }

    @Test
    void aDestinationWhoseSourceVanishedNamesTheReasonInOneLineAndLivemigDebugAddsTheStackTrace() throws Exception {
        int port = LivemigProcess.freePort();
        try (LivemigProcess destination = LivemigProcess.startApart(Map.of(Livemig.DEBUG_VARIABLE, "1"),
                "destination", "--incoming", "rdma:127.0.0.1:" + port, "--progress", "none");
                LivemigProcess source = LivemigProcess.startApart(Map.of(), SLOW_SOURCE)) {
            destination.awaitOutput("listening on ", TIMEOUT);
            source.send("migrate -d rdma:127.0.0.1:" + port);
            awaitErrors(source, MID_ROUND);
            source.kill();
            assertThat(destination.awaitExit(TIMEOUT)).as(destination.output()).isEqualTo(1);
            // The line as without LIVEMIG_DEBUG (the other tests' exact standard error), then the trace.
            assertThat(destination.errors()).startsWith(ANYONE + "livemig destination: migration failed: the source closed "
                    + "the connection before the end of the migration\n"
                    + "io.livemig.migration.api.MigrationFailedException: ")
                    .contains("\tat io.livemig.migration.", "Caused by: java.nio.channels.ClosedChannelException");
        }
    }

    private static LivemigProcess destination(int port) throws Exception {
        LivemigProcess destination = LivemigProcess.startApart(Map.of(), "destination", "--incoming",
                "rdma:127.0.0.1:" + port, "--ram", "64M", "--progress", "none");
        destination.awaitOutput("listening on ", TIMEOUT);
        return destination;
    }

    private static void awaitErrors(LivemigProcess process, String regex) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        java.util.regex.Pattern pattern = java.util.regex.Pattern.compile(regex);
        while (!pattern.matcher(process.errors()).find()) {
            assertThat(System.nanoTime()).as("no /%s/ in:\n%s%s", regex, process.output(), process.errors())
                    .isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    /** Standard error holds progress lines only, and neither stream a stack trace, class name or Reactor log. */
    private static void assertQuiet(LivemigProcess process) {
        assertThat(process.errors().lines()).allMatch(line -> line.startsWith("source: "), "progress lines");
        assertThat((process.output() + process.errors()).lines()).noneMatch(line -> line.contains("Exception")
                || line.contains("io.livemig.") || line.contains("onErrorDropped") || line.startsWith("\tat "));
    }

    /** How a test stops a process. */
    @FunctionalInterface
    private interface Stop {
        void stop(LivemigProcess process) throws Exception;
    }
}
