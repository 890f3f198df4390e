package io.livemig.migration.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.migration.params.MigrationCapability;
import io.livemig.migration.status.MigrationStatus;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** QMP over real sockets: the protocol, every command, errors with QEMU's classes and texts. */
class QmpServerTest {

    static final String OK = "{\"return\": {}}";
    static final String GREETING = "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 1, \"major\": 0},"
            + " \"package\": \"livemig 0.1.0\"}, \"capabilities\": []}}";

    private final MigrationPair pair = new MigrationPair();
    private final MonitorServer server = MonitorServer.qmp("tcp:127.0.0.1:0", pair.sourceTarget);

    @AfterEach
    void close() throws Exception {
        server.close();
        pair.close();
    }

    /** QEMU's error answer. */
    static String error(String errorClass, String desc) {
        return "{\"error\": {\"class\": \"" + errorClass + "\", \"desc\": " + QmpJson.write(QmpJson.text(desc)) + "}}";
    }

    private MonitorClient negotiated(MonitorServer on) throws Exception {
        MonitorClient client = new MonitorClient(on.address());
        assertThat(client.next()).isEqualTo(GREETING);
        assertThat(client.execute("{\"execute\": \"qmp_capabilities\"}")).isEqualTo(OK);
        return client;
    }

    @Test
    void greetsWithCrlfAndRequiresNegotiationFirst() throws Exception {
        assertThat(server.address()).startsWith("tcp:127.0.0.1:").doesNotEndWith(":0");
        try (MonitorClient client = new MonitorClient(server.address())) {
            assertThat(client.nextRaw()).isEqualTo(GREETING + "\r\n");
            assertThat(client.execute("{\"execute\": \"query-migrate\"}")).isEqualTo(error("CommandNotFound",
                    "Expecting capabilities negotiation with 'qmp_capabilities'"));
            assertThat(client.execute("{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"oob\"]}}"))
                    .isEqualTo(error("GenericError", "Capability 'oob' not available"));
            assertThat(client.execute("{\"execute\": \"qmp_capabilities\"}")).isEqualTo(OK);
            assertThat(client.execute("{\"execute\": \"qmp_capabilities\"}")).isEqualTo(error("CommandNotFound",
                    "Capabilities negotiation is already complete, command ignored"));
            assertThat(client.execute("{\"execute\": \"query-migrate\"}")).isEqualTo(OK);
        }
    }

    @Test
    void echoesTheIdOfEveryRequest() throws Exception {
        try (MonitorClient client = negotiated(server)) {
            assertThat(client.execute("{\"execute\": \"query-migrate\", \"id\": \"a1\"}"))
                    .isEqualTo("{\"return\": {}, \"id\": \"a1\"}");
            assertThat(client.execute("{\"id\": 7, \"execute\": \"migrate_cancel\"}"))
                    .isEqualTo("{\"return\": {}, \"id\": 7}");
            assertThat(client.execute("{\"execute\": \"nope\", \"id\": {\"n\": [1, 2]}}")).isEqualTo("{\"error\":"
                    + " {\"class\": \"CommandNotFound\", \"desc\": \"The command nope has not been found\"},"
                    + " \"id\": {\"n\": [1, 2]}}");
        }
    }

    @Test
    void readsRequestsSplitAcrossLinesAndSeveralOnALine() throws Exception {
        try (MonitorClient client = negotiated(server)) {
            client.send("{\"execute\":\n\"query-migrate\",\n \"id\": 1}{\"execute\": \"query-migrate\", \"id\": 2}\n");
            assertThat(client.next()).isEqualTo("{\"return\": {}, \"id\": 1}");
            assertThat(client.next()).isEqualTo("{\"return\": {}, \"id\": 2}");
            client.send("{\"execute\": \"query-migrate\", \"id\": 3} {\"exec");
            assertThat(client.next()).isEqualTo("{\"return\": {}, \"id\": 3}");
            assertThat(client.execute("ute\": \"query-migrate\", \"id\": 4}")).isEqualTo("{\"return\": {}, \"id\": 4}");
        }
    }

    static Stream<Arguments> badRequests() {
        return Stream.of(
                Arguments.of("{\"execute\": \"foo\"}", "CommandNotFound", "The command foo has not been found"),
                Arguments.of("{\"execute\": \"migrate\"}", "GenericError", "Parameter 'uri' is missing"),
                Arguments.of("{\"execute\": \"migrate-incoming\", \"arguments\": {}}", "GenericError",
                        "Parameter 'uri' is missing"),
                Arguments.of("{\"execute\": \"migrate\", \"arguments\": {\"uri\": 5}}", "GenericError",
                        "Invalid parameter type for 'uri', expected: string"),
                Arguments.of("{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"rdma:h:1\", \"blk\": true}}",
                        "GenericError", "Parameter 'blk' is unexpected"),
                Arguments.of("{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"tcp:127.0.0.1:4444\"}}",
                        "GenericError",
                        "unsupported migration transport 'tcp' in 'tcp:127.0.0.1:4444'; livemig migrates over"
                        + " rdma:HOST:PORT"),
                Arguments.of("{\"execute\": \"migrate-incoming\", \"arguments\": {\"uri\": \"rdma:127.0.0.1:0\"}}",
                        "GenericError", "'-incoming' was not specified on the command line"),
                Arguments.of("{\"execute\": \"query-migrate\", \"arguments\": {\"x\": 1}}", "GenericError",
                        "Parameter 'x' is unexpected"),
                Arguments.of("{\"execute\": \"migrate\", \"arguments\": [1]}", "GenericError",
                        "QMP input member 'arguments' must be an object"),
                Arguments.of("{\"arguments\": {}}", "GenericError", "QMP input lacks member 'execute'"),
                Arguments.of("{\"execute\": 1}", "GenericError", "QMP input member 'execute' must be a string"),
                Arguments.of("{\"execute\": \"quit\", \"foo\": 1}", "GenericError",
                        "QMP input member 'foo' is unexpected"),
                Arguments.of("[1, 2]", "GenericError", "QMP input must be a JSON object"),
                Arguments.of("{\"execute\" \"x\"}", "GenericError", "JSON parse error, missing : in object pair"),
                Arguments.of("{\"execute\": nope}", "GenericError", "JSON parse error, invalid keyword 'nope'"),
                Arguments.of("{\"execute\": \"query-migrate\", \"execute\": \"quit\"}", "GenericError",
                        "JSON parse error, duplicate key"),
                Arguments.of("{execute: \"quit\"}", "GenericError", "JSON parse error, key is not a string in object"),
                Arguments.of("{\"execute\": \"quit\" \"id\": 1}", "GenericError",
                        "JSON parse error, expected separator in dict"),
                Arguments.of("{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"max-bandwidth\":"
                        + " 18446744073709551616}}", "GenericError", "Parameter 'max-bandwidth' expects size"),
                Arguments.of("{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"max-bandwidth\": 1.5}}",
                        "GenericError", "Parameter 'max-bandwidth' expects size"),
                Arguments.of("{\"execute\": \"migrate-set-capabilities\", \"arguments\": {\"capabilities\":"
                        + " [{\"capability\": \"foo\", \"state\": true}]}}", "GenericError",
                        "Parameter 'capabilities[0].capability' does not accept value 'foo'"),
                Arguments.of("{\"execute\": \"migrate-set-capabilities\", \"arguments\": {\"capabilities\":"
                        + " [{\"capability\": \"x-verify\"}]}}", "GenericError",
                        "Parameter 'capabilities[0].state' is missing"),
                Arguments.of("{\"execute\": \"migrate-set-capabilities\", \"arguments\": {\"capabilities\":"
                        + " [{\"capability\": \"x-verify\", \"state\": \"on\"}]}}", "GenericError",
                        "Invalid parameter type for 'capabilities[0].state', expected: boolean"),
                Arguments.of("{\"execute\": \"migrate-set-capabilities\", \"arguments\": {}}", "GenericError",
                        "Parameter 'capabilities' is missing"),
                Arguments.of("{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"foo\": 1}}", "GenericError",
                        "Parameter 'foo' is unexpected"),
                Arguments.of("{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"max-bandwidth\": \"40g\"}}",
                        "GenericError", "Invalid parameter type for 'max-bandwidth', expected: integer"),
                Arguments.of("{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"max-bandwidth\": -1}}",
                        "GenericError", "Parameter 'max-bandwidth' expects size"),
                Arguments.of("{\"execute\": \"migrate-set-parameters\","
                        + " \"arguments\": {\"cpu-throttle-initial\": 256}}",
                        "GenericError", "Parameter 'cpu-throttle-initial' expects uint8"),
                Arguments.of("{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"downtime-limit\": 2000001}}",
                        "GenericError",
                        "Parameter 'downtime_limit' expects an integer in the range of 0 to 2000 seconds"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRequests")
    void answersBadRequestsWithQemusClassAndText(String request, String errorClass, String desc) throws Exception {
        try (MonitorClient client = negotiated(server)) {
            assertThat(client.execute(request)).isEqualTo("{\"error\": {\"class\": \"" + errorClass + "\", \"desc\": "
                    + QmpJson.write(QmpJson.text(desc)) + "}}");
            // The session goes on after an error.
            assertThat(client.execute("{\"execute\": \"query-migrate\"}")).isEqualTo(OK);
        }
    }

    @Test
    void answersMalformedJsonWithQemusTextAndServesTheNextRequest() throws Exception {
        try (MonitorClient client = negotiated(server)) {
            // A malformed request and a good one in one write: the framing finds both, the parser refuses one.
            client.send("{\"execute\": \"query-migrate\", \"id\": 1 \"x\": 2}\n{\"execute\": \"query-migrate\","
                    + " \"id\": 2}\n");
            assertThat(client.next()).isEqualTo(error("GenericError", "JSON parse error, expected separator in dict"));
            assertThat(client.next()).isEqualTo("{\"return\": {}, \"id\": 2}");
        }
    }

    @Test
    void servesARequestOfExactlyTheSizeLimit() throws Exception {
        try (MonitorClient client = negotiated(server)) {
            String head = "{\"execute\": \"query-migrate\", \"id\": \"";
            String id = "x".repeat(QmpSession.MAX_REQUEST_BYTES - head.length() - 2);
            client.send(head + id + "\"}");
            assertThat(client.next()).isEqualTo("{\"return\": {}, \"id\": \"" + id + "\"}");
        }
    }

    @Test
    void answersARequestOverTheSizeLimitWithQemusTextThenCloses() throws Exception {
        try (MonitorClient client = negotiated(server)) {
            // The request before it is answered first; nothing after it is read.
            client.send("{\"execute\": \"query-migrate\", \"id\": 1}{\"execute\": \"query-migrate\", \"id\": \""
                    + "x".repeat(QmpSession.MAX_REQUEST_BYTES) + "\"}{\"execute\": \"quit\"}");
            assertThat(client.next()).isEqualTo("{\"return\": {}, \"id\": 1}");
            assertThat(client.next()).isEqualTo(error("GenericError", "JSON token size limit exceeded"));
            assertThat(client.next()).isEqualTo(MonitorClient.EOF);
        }
        assertThat(pair.sourceQuits).hasValue(0);
    }

    @Test
    void answersAStrayByteBetweenRequestsWithQemusTextThenCloses() throws Exception {
        try (MonitorClient client = negotiated(server)) {
            client.send("{\"execute\": \"query-migrate\", \"id\": 1} x {\"execute\": \"quit\"}");
            assertThat(client.next()).isEqualTo("{\"return\": {}, \"id\": 1}");
            assertThat(client.next()).isEqualTo(error("GenericError", "JSON parse error, stray 'x'"));
            assertThat(client.next()).isEqualTo(MonitorClient.EOF);
        }
        assertThat(pair.sourceQuits).hasValue(0);
    }

    @Test
    void aClientThatEndsItsOutputGetsEveryAnswerBeforeTheClose() throws Exception {
        try (MonitorClient client = new MonitorClient(server.address())) {
            assertThat(client.next()).isEqualTo(GREETING);
            client.send("{\"execute\": \"qmp_capabilities\"}{\"execute\": \"query-status\", \"id\": 1}");
            client.shutdownOutput();
            assertThat(client.next()).isEqualTo(OK);
            assertThat(client.next()).isEqualTo("{\"return\": {\"status\": \"running\", \"singlestep\": false,"
                    + " \"running\": true}, \"id\": 1}");
            assertThat(client.next()).isEqualTo(MonitorClient.EOF);
        }
    }

    @Test
    void queriesAndSetsCapabilitiesAndParameters() throws Exception {
        try (MonitorClient client = negotiated(server)) {
            assertThat(client.execute("{\"execute\": \"migrate-set-capabilities\", \"arguments\": {\"capabilities\":"
                    + " [{\"capability\": \"x-verify\", \"state\": true}, {\"capability\": \"auto-converge\","
                    + " \"state\": true}]}}")).isEqualTo(OK);
            assertThat(client.execute("{\"execute\": \"query-migrate-capabilities\"}")).isEqualTo("{\"return\": ["
                    + "{\"capability\": \"rdma-pin-all\", \"state\": false}, {\"capability\": \"auto-converge\","
                    + " \"state\": true}, {\"capability\": \"x-verify\", \"state\": true}, {\"capability\": \"events\","
                    + " \"state\": false}, {\"capability\": \"pause-before-switchover\", \"state\": false},"
                    + " {\"capability\": \"multifd\", \"state\": false}]}");
            assertThat(client.execute("{\"execute\": \"migrate-continue\", \"arguments\": {\"state\": \"pre-switchover\"}}"))
                    .isEqualTo("{\"error\": {\"class\": \"GenericError\", \"desc\": \"Migration not in expected state: none\"}}");
            assertThat(client.execute("{\"execute\": \"migrate-continue\", \"arguments\": {\"state\": \"paused\"}}"))
                    .isEqualTo("{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'state' does not accept"
                            + " value 'paused'\"}}");
            assertThat(pair.source.capabilities().isOn(MigrationCapability.AUTO_CONVERGE)).isTrue();

            assertThat(client.execute("{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"max-bandwidth\":"
                    + " 42949672960, \"downtime-limit\": 500, \"max-cpu-throttle\": 80}}")).isEqualTo(OK);
            assertThat(client.execute("{\"execute\": \"query-migrate-parameters\"}")).isEqualTo("{\"return\": {"
                    + "\"throttle-trigger-threshold\": 50, \"cpu-throttle-initial\": 20,"
                    + " \"cpu-throttle-increment\": 10,"
                    + " \"max-cpu-throttle\": 80, \"max-bandwidth\": 42949672960, \"avail-switchover-bandwidth\": 0,"
                    + " \"downtime-limit\": 500, \"multifd-channels\": 2, \"max-pinned-bytes\": 0}}");
            assertThat(pair.source.parameters().maxBandwidth()).isEqualTo(42949672960L);
            // All or nothing: one bad value leaves the others unchanged.
            assertThat(client.execute("{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"downtime-limit\":"
                    + " 100, \"cpu-throttle-increment\": 0}}")).contains("GenericError");
            assertThat(pair.source.parameters().downtimeLimit()).isEqualTo(500);
        }
    }

    @Test
    void answersTheInformationalQueries() throws Exception {
        try (MonitorClient client = negotiated(server)) {
            assertThat(client.execute("{\"execute\": \"query-status\"}"))
                    .isEqualTo("{\"return\": {\"status\": \"running\", \"singlestep\": false, \"running\": true}}");
            assertThat(client.execute("{\"execute\": \"query-version\"}")).isEqualTo("{\"return\": {\"qemu\":"
                    + " {\"micro\": 0, \"minor\": 1, \"major\": 0}, \"package\": \"livemig 0.1.0\"}}");
            assertThat(List.<Object>copyOf((List<?>) client.returned("{\"execute\": \"query-commands\"}")))
                    .contains(Map.of("name", "migrate"), Map.of("name", "query-migrate"), Map.of("name", "quit"));
        }
    }

    @Test
    void servesAUnixSocketReplacingAStaleFileAndRemovingItAtClose(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("qmp.sock");
        // A socket file left behind by a process that died: Java leaves it on close, as a crash would.
        try (var stale = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            stale.bind(java.net.UnixDomainSocketAddress.of(path));
        }
        assertThat(path).exists();
        MonitorServer unix = MonitorServer.qmp("unix:" + path, pair.destinationTarget);
        try (unix; MonitorClient first = negotiated(unix); MonitorClient second = negotiated(unix)) {
            assertThat(unix.address()).isEqualTo("unix:" + path);
            assertThat(first.execute("{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"rdma:127.0.0.1:1\"}}"))
                    .isEqualTo("{\"error\": {\"class\": \"GenericError\", \"desc\": \"Guest is waiting for an"
                            + " incoming migration\"}}");
            assertThat(second.execute("{\"execute\": \"query-status\"}"))
                    .isEqualTo("{\"return\": {\"status\": \"inmigrate\", \"singlestep\": false, \"running\": false}}");
            unix.close();
            assertThat(first.next()).isEqualTo(MonitorClient.EOF);
            assertThat(second.next()).isEqualTo(MonitorClient.EOF);
        }
        assertThat(path).doesNotExist();
        unix.close();
    }

    @Test
    void refusesARegularFileInTheWayOfTheSocket(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("data");
        java.nio.file.Files.writeString(path, "keep me");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> MonitorServer.qmp("unix:" + path, pair.sourceTarget))
                .isInstanceOf(java.io.UncheckedIOException.class)
                .hasMessageStartingWith("cannot listen on unix:" + path);
        assertThat(path).hasContent("keep me");
    }

    @Test
    void quitAnswersSendsShutdownAndClosesTheSession() throws Exception {
        try (MonitorClient client = negotiated(server)) {
            assertThat(client.execute("{\"execute\": \"quit\", \"id\": 1}")).isEqualTo("{\"return\": {}, \"id\": 1}");
            assertThat(client.nextEvent()).matches("\\{\"timestamp\": \\{\"seconds\": \\d+, \"microseconds\": \\d+},"
                    + " \"event\": \"SHUTDOWN\", \"data\": \\{\"guest\": false, \"reason\": \"host-qmp-quit\"}}");
            assertThat(client.next()).isEqualTo(MonitorClient.EOF);
            assertThat(pair.sourceQuits).hasValue(1);
        }
    }

    @Test
    void aMigrationInProgressRefusesAnotherAndEndsCancelledWithEvents() throws Exception {
        String uri = pair.listen();
        try (MonitorClient client = negotiated(server)) {
            assertThat(client.execute("{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"max-bandwidth\":"
                    + " 1048576}}")).isEqualTo(OK);
            String migrate = "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"" + uri + "\"}}";
            assertThat(client.execute(migrate)).isEqualTo(OK);
            assertThat(client.execute(migrate)).isEqualTo("{\"error\": {\"class\": \"GenericError\", \"desc\":"
                    + " \"There's a migration process in progress\"}}");
            assertThat(client.execute("{\"execute\": \"migrate-set-capabilities\", \"arguments\": {\"capabilities\":"
                    + " [{\"capability\": \"x-verify\", \"state\": true}]}}")).isEqualTo("{\"error\": {\"class\":"
                    + " \"GenericError\", \"desc\": \"There's a migration process in progress\"}}");
            assertThat(client.execute("{\"execute\": \"migrate_cancel\"}")).isEqualTo(OK);
            List<String> statuses = QmpMigrationTest.statusesUntilFinished(client);
            assertThat(statuses).endsWith("cancelled").contains("cancelling");
            assertThat(client.execute("{\"execute\": \"query-migrate\"}")).startsWith("{\"return\": {\"status\":"
                    + " \"cancelled\"");
        }
        MigrationPair.awaitStatus(pair.sourceTarget, MigrationStatus.CANCELLED);
    }

    @Test
    void hmpIsServedOnASocketToo() throws Exception {
        try (MonitorServer hmp = MonitorServer.hmp("tcp:127.0.0.1:0", pair.sourceTarget);
                MonitorClient client = new MonitorClient(hmp.address())) {
            assertThat(client.nextRaw()).isEqualTo("livemig 0.1.0 monitor - type 'help' for more information\n");
            client.send("migrate_set_parameter max-bandwidth 40g\ninfo migrate_parameters\n");
            assertThat(client.nextRaw()).isEqualTo("(livemig) (livemig) throttle-trigger-threshold: 50\n");
            for (int i = 0; i < 3; i++) {
                client.nextRaw();
            }
            assertThat(client.nextRaw()).isEqualTo("max-bandwidth: 42949672960 bytes/second\n");
            client.nextRaw();
            client.nextRaw();
            assertThat(client.nextRaw()).isEqualTo("multifd-channels: 2\n");
            assertThat(client.nextRaw()).isEqualTo("max-pinned-bytes: 0 bytes\n");
            client.send("quit\n");
            // The prompt before quit, with no newline, then the connection closes.
            assertThat(client.nextRaw()).isEqualTo("(livemig) ");
            assertThat(client.nextRaw()).isEqualTo(MonitorClient.EOF);
            assertThat(pair.sourceQuits).hasValue(1);
        }
    }
}
