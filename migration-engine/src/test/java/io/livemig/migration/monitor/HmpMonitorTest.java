package io.livemig.migration.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.migration.params.MigrationCapability;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.status.MigrationInfo;
import io.livemig.migration.status.MigrationStatus;
import io.livemig.migration.status.RamInfo;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/** Every HMP command on real controllers, with QEMU's texts. */
class HmpMonitorTest {

    private final MigrationPair pair = new MigrationPair();
    private final HmpMonitor source = new HmpMonitor(pair.sourceTarget);
    private final HmpMonitor destination = new HmpMonitor(pair.destinationTarget);

    @AfterEach
    void close() throws InterruptedException {
        pair.close();
    }

    @Test
    void wordsAreSplitAtRunsOfAsciiWhiteSpaceOnly() {
        assertThat(HmpMonitor.words("  migrate_set_parameter\tmax-bandwidth \u000B\f 40g \r"))
                .containsExactly("migrate_set_parameter", "max-bandwidth", "40g");
        // A non-ASCII space inside a word is part of it (as for QEMU's isspace), at the ends it is stripped.
        assertThat(HmpMonitor.words("\u2003info\u00a0migrate\u2003")).containsExactly("info\u00a0migrate");
        assertThat(HmpMonitor.words(" \t ")).isEmpty();
        assertThat(HmpMonitor.isQuit(" q  now")).isTrue();
        assertThat(HmpMonitor.isQuit("   ")).isFalse();
        assertThat(HmpMonitor.isQuit("quitx")).isFalse();
    }

    @Test
    void setsACapabilityAndListsThemAll() {
        assertThat(source.execute("migrate_set_capability x-verify on")).isEmpty();
        assertThat(source.execute("info migrate_capabilities"))
                .isEqualTo("rdma-pin-all: off\nauto-converge: off\nx-verify: on\nevents: off\n"
                        + "pause-before-switchover: off\nmultifd: off");
        assertThat(pair.source.capabilities().isOn(MigrationCapability.X_VERIFY)).isTrue();
        assertThat(source.execute("migrate_set_capability x-verify off")).isEmpty();
        assertThat(pair.source.capabilities().isOn(MigrationCapability.X_VERIFY)).isFalse();
    }

    @Test
    void theDestinationKeepsItsOwnCapabilitiesAndParameters() {
        assertThat(destination.execute("migrate_set_capability rdma-pin-all on")).isEmpty();
        assertThat(destination.execute("migrate_set_parameter downtime-limit 500")).isEmpty();
        assertThat(destination.execute("info migrate_capabilities")).startsWith("rdma-pin-all: on\n");
        assertThat(destination.execute("info migrate_parameters")).contains("downtime-limit: 500 ms");
    }

    @Test
    void listsTheParametersWithQemusUnits() {
        assertThat(source.execute("info migrate_parameters")).isEqualTo("""
                throttle-trigger-threshold: 50
                cpu-throttle-initial: 20
                cpu-throttle-increment: 10
                max-cpu-throttle: 99
                max-bandwidth: 134217728 bytes/second
                avail-switchover-bandwidth: 0 bytes/second
                downtime-limit: 300 ms
                multifd-channels: 2
                max-pinned-bytes: 0 bytes""");
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
        "max-bandwidth, 40g, 42949672960",
        "max-bandwidth, 40, 41943040",
        "max-bandwidth, 1.5g, 1610612736",
        "max-bandwidth, 100k, 102400",
        "avail-switchover-bandwidth, 10G, 10737418240",
        "downtime-limit, 500, 500",
        "cpu-throttle-initial, 30, 30",
        "cpu-throttle-increment, 5, 5",
        "max-cpu-throttle, 80, 80",
        "throttle-trigger-threshold, 100, 100",
        "max-pinned-bytes, 256M, 268435456",
        "multifd-channels, 4, 4",
        "multifd-channels, 255, 255",
    })
    void setsAParameterAsQemusHmpReadsIt(String name, String value, long expected) {
        assertThat(source.execute("migrate_set_parameter " + name + " " + value)).isEmpty();
        assertThat(MigrationParameter.fromQmpName(name).get(pair.source.parameters())).isEqualTo(expected);
        assertThat(source.execute("info migrate_parameters")).contains(name + ": " + expected);
    }

    static Stream<Arguments> badInput() {
        return Stream.of(
                Arguments.of("migrate_set_capability foo on", "Error: Invalid parameter 'foo'"),
                Arguments.of("migrate_set_capability x-verify yes",
                        usage("migrate_set_capability", "Expected 'on' or 'off'")),
                Arguments.of("migrate_set_capability x-verify",
                        usage("migrate_set_capability", "migrate_set_capability: string expected")),
                Arguments.of("migrate_set_parameter max-bandwidth 40x", "Error: Invalid size 40x"),
                Arguments.of("migrate_set_parameter max-bandwidth abc", "Error: Invalid size abc"),
                Arguments.of("migrate_set_parameter max-bandwidth -1", "Error: Invalid size -1"),
                Arguments.of("migrate_set_parameter max-bandwidth 8e", "Error: Invalid size 8e"),
                Arguments.of("migrate_set_parameter downtime-limit abc",
                        "Error: Parameter 'downtime-limit' expects size"),
                Arguments.of("migrate_set_parameter max-pinned-bytes 4k", "Error: Parameter 'max_pinned_bytes' expects"
                        + " 0 (no limit) or at least 1048576 bytes (one chunk)"),
                Arguments.of("migrate_set_parameter multifd-channels 0",
                        "Error: Parameter 'multifd_channels' expects a value between 1 and 255"),
                Arguments.of("migrate_set_parameter multifd-channels 256",
                        "Error: Parameter 'multifd-channels' expects uint8"),
                Arguments.of("migrate_set_parameter downtime-limit 2000001",
                        "Error: Parameter 'downtime_limit' expects an integer in the range of 0 to 2000 seconds"),
                Arguments.of("migrate_set_parameter cpu-throttle-initial 300",
                        "Error: Parameter 'cpu-throttle-initial' expects uint8"),
                Arguments.of("migrate_set_parameter cpu-throttle-initial x",
                        "Error: Parameter 'cpu-throttle-initial' expects uint64"),
                Arguments.of("migrate_set_parameter cpu-throttle-initial 0",
                        "Error: Parameter 'cpu_throttle_initial' expects an integer in the range of 1 to 99"),
                Arguments.of("migrate_set_parameter max-cpu-throttle 100",
                        "Error: Parameter 'max_cpu_throttle' expects an integer in the range of 1 to 99"),
                Arguments.of("migrate_set_parameter tls-creds x", "Error: Invalid parameter 'tls-creds'"),
                Arguments.of("migrate_set_parameter max-bandwidth",
                        usage("migrate_set_parameter", "migrate_set_parameter: string expected")),
                Arguments.of("migrate_set_parameter max-bandwidth 1 2",
                        usage("migrate_set_parameter",
                                "migrate_set_parameter: extraneous characters at the end of line")),
                Arguments.of("migrate", usage("migrate", "migrate: string expected")),
                Arguments.of("migrate -r rdma:127.0.0.1:1", usage("migrate", "migrate: unsupported option -r")),
                Arguments.of("migrate -d tcp:127.0.0.1:4444",
                        "Error: unsupported migration transport 'tcp' in 'tcp:127.0.0.1:4444'; livemig migrates"
                        + " over rdma:HOST:PORT"),
                Arguments.of("migrate -d rdma:127.0.0.1",
                        "Error: missing port in 'rdma:127.0.0.1'; expected rdma:HOST:PORT"),
                Arguments.of("migrate -d rdma::4444",
                        "Error: missing host in 'rdma::4444' (RDMA hostname has not been set);"
                        + " expected rdma:HOST:PORT"),
                Arguments.of("migrate_cancel now",
                        usage("migrate_cancel", "migrate_cancel: extraneous characters at the end of line")),
                Arguments.of("migrate_incoming rdma:127.0.0.1:0",
                        "Error: '-incoming' was not specified on the command line"),
                Arguments.of("foo", "unknown command: 'foo'"),
                Arguments.of("info foo", "unknown command: 'info foo'"),
                Arguments.of("info migrate extra", usage("info", "info: extraneous characters at the end of line")));
    }

    /** QEMU's argument parser: its message, then a pointer to the command's help. */
    private static String usage(String command, String message) {
        return message + "\nTry \"help " + command + "\" for more information";
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badInput")
    void refusesBadInputWithQemusTexts(String line, String answer) {
        assertThat(source.execute(line)).isEqualTo(answer);
        assertThat(pair.source.parameters()).isEqualTo(MigrationParameters.DEFAULTS);
    }

    @Test
    void aBadUriIsRefusedWithTheParsersMessage() {
        assertThat(source.execute("migrate -d rdma:[::1:4444"))
                .isEqualTo("Error: unterminated IPv6 address in 'rdma:[::1:4444'; expected rdma:[ADDRESS]:PORT");
        assertThat(pair.source.info().status()).isEqualTo(MigrationStatus.NONE);
    }

    @Test
    void theDestinationRefusesToMigrateAndToListenTwice() {
        assertThat(destination.execute("migrate -d rdma:127.0.0.1:4444"))
                .isEqualTo("Error: Guest is waiting for an incoming migration");
        assertThat(destination.execute("migrate_incoming rdma:127.0.0.1:0")).isEmpty();
        assertThat(destination.execute("migrate_incoming rdma:127.0.0.1:0"))
                .isEqualTo("Error: The incoming migration has already been started");
        assertThat(destination.execute("migrate_cancel")).isEmpty();
        int port = pair.destinationTarget.incomingAddress().orElseThrow().getPort();
        assertThat(destination.execute("info migrate"))
                .isEqualTo("socket address: [\n\trdma:127.0.0.1:" + port + "\n]");
    }

    @Test
    void aMigrationInProgressRefusesAnotherAndCapabilityChangesUntilCancelled() {
        String uri = pair.listen();
        // 8 MiB at 1 MiB/s: it is still running when the commands below arrive.
        assertThat(source.execute("migrate_set_parameter max-bandwidth 1")).isEmpty();
        assertThat(source.execute("migrate -d " + uri)).isEmpty();
        assertThat(source.execute("migrate -d " + uri)).isEqualTo("Error: There's a migration process in progress");
        assertThat(source.execute("migrate_set_capability x-verify on"))
                .isEqualTo("Error: There's a migration process in progress");
        // Parameters may change mid-migration, as in QEMU.
        assertThat(source.execute("migrate_set_parameter downtime-limit 100")).isEmpty();
        assertThat(source.execute("info migrate")).startsWith("Migration status: ");
        assertThat(source.execute("migrate_cancel")).isEmpty();
        MigrationPair.awaitStatus(pair.sourceTarget, MigrationStatus.CANCELLED);
        assertThat(source.execute("info migrate")).startsWith("Migration status: cancelled\ntotal time: ");
    }

    @Test
    void migrateContinueTakesAStateAndAnswersWithQemusTexts() {
        assertThat(source.execute("migrate_continue pre-switchover"))
                .isEqualTo("Error: Migration not in expected state: none");
        assertThat(source.execute("migrate_continue paused")).isEqualTo("Error: Invalid parameter 'paused'");
        assertThat(source.execute("migrate_continue")).isEqualTo("migrate_continue: string expected\n"
                + "Try \"help migrate_continue\" for more information");
        assertThat(destination.execute("migrate_continue pre-switchover"))
                .isEqualTo("Error: Migration not in expected state: none");
    }

    @Test
    void helpListsEveryCommandWithOneLine() {
        assertThat(source.execute("help")).isEqualTo("""
                migrate [-d] uri -- migrate to URI (using -d to not wait for completion)
                migrate_cancel -- cancel the current VM migration
                migrate_continue state -- Continue migration from the given paused state
                migrate_incoming uri -- start an incoming migration listening on URI
                migrate_set_capability capability state -- enable or disable a migration capability (state: on|off)
                migrate_set_parameter parameter value -- set a migration parameter (max-bandwidth in MiB/s unless \
                suffixed b/k/m/g/t)
                info [subcommand] -- show various information about the system state
                help|? [cmd] -- show the help
                quit|q -- quit the monitor and stop this end""");
        assertThat(source.execute("help migrate_cancel"))
                .isEqualTo("migrate_cancel -- cancel the current VM migration");
        assertThat(source.execute("? info")).contains("info migrate_parameters");
        assertThat(source.execute("info")).contains("info migrate  -- show migration status");
        assertThat(source.execute("help bar")).isEqualTo("unknown command: 'bar'");
        assertThat(source.execute("   ")).isEmpty();
    }

    @Test
    void infoMigrateIsEmptyBeforeAnyMigration() {
        assertThat(source.execute("info migrate")).isEmpty();
    }

    @Test
    void infoMigratePrintsQemusLines() {
        RamInfo ram = new RamInfo(5L << 20, 3L << 20, 8L << 20, 100, 1280, 1280L * 4096, 250, 123.456, 2, 4096, 9000,
                5L << 20, 0, 0);
        MigrationInfo active = new MigrationInfo(MigrationStatus.ACTIVE, OptionalLong.of(1500), OptionalLong.of(12),
                OptionalLong.of(40), OptionalLong.empty(), ram, OptionalLong.of(20), null);
        assertThat(HmpInfo.migrate(active, java.util.Optional.empty())).isEqualTo("""
                Migration status: active
                total time: 1500 ms
                expected downtime: 40 ms
                setup: 12 ms
                transferred ram: 5120 kbytes
                throughput: 123.46 mbps
                remaining ram: 3072 kbytes
                total ram: 8192 kbytes
                duplicate: 100 pages
                normal: 1280 pages
                normal bytes: 5120 kbytes
                dirty sync count: 2
                page size: 4 kbytes
                multifd bytes: 0 kbytes
                pages-per-second: 9000
                dirty pages rate: 250 pages
                precopy ram: 5120 kbytes
                cpu throttle percentage: 20""");
        MigrationInfo failed = new MigrationInfo(MigrationStatus.FAILED, OptionalLong.of(7), OptionalLong.empty(),
                OptionalLong.empty(), OptionalLong.empty(), null, OptionalLong.empty(), "connection refused");
        assertThat(HmpInfo.migrate(failed, java.util.Optional.empty()))
                .isEqualTo("Migration status: failed (connection refused)\ntotal time: 7 ms");
    }

    @Test
    void quitAsksTheOwnerToStop() {
        assertThat(source.execute("quit")).isEmpty();
        assertThat(destination.execute("q")).isEmpty();
        assertThat(pair.sourceQuits).hasValue(1);
        assertThat(pair.destinationQuits).hasValue(1);
    }

    @Test
    void servePromptsAnswersAndStopsAtQuit() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            source.serve(new BufferedReader(new StringReader("migrate_set_parameter max-bandwidth 40g\nfoo\n\nquit\n"
                    + "info migrate_capabilities\n")), out);
        }
        assertThat(bytes.toString(StandardCharsets.UTF_8))
                .isEqualTo("(livemig) (livemig) unknown command: 'foo'\n(livemig) (livemig) ");
        assertThat(pair.source.parameters().maxBandwidth()).isEqualTo(42949672960L);
        assertThat(pair.sourceQuits).hasValue(1);
    }

    @Test
    void serveStopsAtEndOfInput() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            source.serve(new BufferedReader(new StringReader("info migrate_capabilities\n")), out);
        }
        assertThat(bytes.toString(StandardCharsets.UTF_8)).startsWith("(livemig) rdma-pin-all: off\n")
                .endsWith("pause-before-switchover: off\nmultifd: off\n(livemig) ");
        assertThat(pair.sourceQuits).hasValue(0);
    }

    @Test
    void serveWithEchoPrintsEachLineAfterItsPromptAndEndsTheLastPromptsLineAtEndOfInput() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            source.serve(new BufferedReader(new StringReader("migrate_set_capability x-verify on\nfoo\n"
                    + "info migrate_capabilities\n")), out, true);
        }
        assertThat(bytes.toString(StandardCharsets.UTF_8)).isEqualTo("(livemig) migrate_set_capability x-verify on\n"
                + "(livemig) foo\nunknown command: 'foo'\n"
                + "(livemig) info migrate_capabilities\nrdma-pin-all: off\nauto-converge: off\nx-verify: on\n"
                + "events: off\npause-before-switchover: off\nmultifd: off\n(livemig) \n");
    }
}
