package io.livemig.migration.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** HMP over a socket: banner and prompts, the line-length cap, and a client that ends its output early. */
class HmpSessionTest {

    private static final String BANNER_LINE = HmpSession.BANNER + "\n";
    private static final String CANCEL_HELP = "migrate_cancel -- cancel the current VM migration\n";

    private final MigrationPair pair = new MigrationPair();

    @TempDir
    Path dir;

    @AfterEach
    void close() throws Exception {
        pair.close();
    }

    /** Each transport several times: losing the answers to an early end of input was a race. */
    static Stream<String> transportsRepeated() {
        return Stream.of("tcp", "unix").flatMap(t -> Stream.generate(() -> t).limit(5));
    }

    @Test
    void answersAnOverLongLineWithAnErrorAndReadsTheNextLine() throws Exception {
        try (MonitorServer server = MonitorServer.hmp("tcp:127.0.0.1:0", pair.sourceTarget);
                MonitorClient client = new MonitorClient(server.address())) {
            assertThat(client.nextRaw()).isEqualTo(BANNER_LINE);
            // Sent in pieces, as a client writing a huge line would: the cap counts the whole line.
            String longLine = "migrate_set_parameter max-bandwidth " + "9".repeat(HmpSession.MAX_LINE_BYTES);
            for (int i = 0; i < longLine.length(); i += 10_000) {
                client.send(longLine.substring(i, Math.min(longLine.length(), i + 10_000)));
            }
            client.send("\nhelp migrate_cancel\n");
            assertThat(client.nextRaw()).isEqualTo(HmpMonitor.PROMPT + HmpSession.LINE_TOO_LONG + "\n");
            assertThat(client.nextRaw()).isEqualTo(HmpMonitor.PROMPT + CANCEL_HELP);
            assertThat(pair.source.parameters().maxBandwidth()).isEqualTo(134217728L);
        }
    }

    @Test
    void readsALineOfExactlyTheCapWithACrlfEnding() throws Exception {
        try (MonitorServer server = MonitorServer.hmp("tcp:127.0.0.1:0", pair.sourceTarget);
                MonitorClient client = new MonitorClient(server.address())) {
            assertThat(client.nextRaw()).isEqualTo(BANNER_LINE);
            String word = "x".repeat(HmpSession.MAX_LINE_BYTES);
            client.send(word + "\r\n");
            assertThat(client.nextRaw()).isEqualTo(HmpMonitor.PROMPT + "unknown command: '" + word + "'\n");
        }
    }

    @ParameterizedTest(name = "{0} #{index}")
    @MethodSource("transportsRepeated")
    void aClientThatEndsItsOutputGetsEveryAnswerBeforeTheClose(String transport) throws Exception {
        String address = transport.equals("tcp") ? "tcp:127.0.0.1:0" : "unix:" + dir.resolve("hmp.sock");
        try (MonitorServer server = MonitorServer.hmp(address, pair.sourceTarget);
                MonitorClient client = new MonitorClient(server.address())) {
            // As `printf '...' | socat - unix:...` does: commands, then end of input, then read to the end.
            client.send("help migrate_cancel\nmigrate_set_parameter downtime-limit 400\nhelp migrate_cancel\n");
            client.shutdownOutput();
            assertThat(client.nextRaw()).isEqualTo(BANNER_LINE);
            assertThat(client.nextRaw()).isEqualTo(HmpMonitor.PROMPT + CANCEL_HELP);
            assertThat(client.nextRaw()).isEqualTo(HmpMonitor.PROMPT + HmpMonitor.PROMPT + CANCEL_HELP);
            assertThat(client.nextRaw()).isEqualTo(HmpMonitor.PROMPT);
            assertThat(client.nextRaw()).isEqualTo(MonitorClient.EOF);
            assertThat(pair.source.parameters().downtimeLimit()).isEqualTo(400);
        }
    }
}
