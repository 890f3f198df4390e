package io.livemig.migration.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** A whole migration driven through QMP on both ends, followed by its MIGRATION events. */
class QmpMigrationTest {

    private static final Pattern MIGRATION_EVENT = Pattern.compile("\\{\"timestamp\": \\{\"seconds\": \\d+,"
            + " \"microseconds\": \\d+}, \"event\": \"MIGRATION\", \"data\": \\{\"status\": \"([a-z-]+)\"}}");

    /** Reads MIGRATION events until an end state and returns their statuses in order. */
    static List<String> statusesUntilFinished(MonitorClient client) throws InterruptedException {
        List<String> statuses = new ArrayList<>();
        while (true) {
            String event = client.nextEvent();
            Matcher matcher = MIGRATION_EVENT.matcher(event);
            assertThat(matcher.matches()).as(event).isTrue();
            String status = matcher.group(1);
            statuses.add(status);
            if (status.equals("completed") || status.equals("failed") || status.equals("cancelled")) {
                return statuses;
            }
        }
    }

    @Test
    void bothEndsReportEveryStatusChangeUntilCompleted() throws Exception {
        try (MigrationPair pair = new MigrationPair();
                MonitorServer sourceServer = MonitorServer.qmp("tcp:127.0.0.1:0", pair.sourceTarget);
                MonitorServer destinationServer = MonitorServer.qmp("tcp:127.0.0.1:0", pair.destinationTarget);
                MonitorClient source = new MonitorClient(sourceServer.address());
                MonitorClient watcher = new MonitorClient(sourceServer.address());
                MonitorClient destination = new MonitorClient(destinationServer.address())) {
            for (MonitorClient client : List.of(source, watcher, destination)) {
                client.next();
                assertThat(client.execute("{\"execute\": \"qmp_capabilities\"}")).isEqualTo(QmpServerTest.OK);
            }
            assertThat(destination.execute("{\"execute\": \"migrate-incoming\", \"arguments\": {\"uri\":"
                    + " \"rdma:127.0.0.1:0\"}}")).isEqualTo(QmpServerTest.OK);
            Map<?, ?> listening = (Map<?, ?>) destination.returned("{\"execute\": \"query-migrate\"}");
            Map<?, ?> socket = (Map<?, ?>) ((List<?>) listening.get("socket-address")).getFirst();
            assertThat(socket.get("type")).isEqualTo("inet");
            assertThat(socket.get("host")).isEqualTo("127.0.0.1");
            String uri = "rdma:127.0.0.1:" + socket.get("port");

            assertThat(source.execute("{\"execute\": \"migrate-set-capabilities\", \"arguments\": {\"capabilities\":"
                    + " [{\"capability\": \"x-verify\", \"state\": true}]}}")).isEqualTo(QmpServerTest.OK);
            assertThat(source.execute("{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"" + uri + "\"},"
                    + " \"id\": \"m\"}")).isEqualTo("{\"return\": {}, \"id\": \"m\"}");

            List<String> sourceStatuses = statusesUntilFinished(source);
            assertThat(sourceStatuses).startsWith("setup").contains("active", "device").endsWith("completed")
                    .doesNotHaveDuplicates();
            // Every negotiated client sees the events, not only the one that started the migration.
            assertThat(statusesUntilFinished(watcher)).isEqualTo(sourceStatuses);
            List<String> destinationStatuses = statusesUntilFinished(destination);
            assertThat(destinationStatuses).startsWith("setup").endsWith("completed");

            Map<?, ?> done = (Map<?, ?>) source.returned("{\"execute\": \"query-migrate\"}");
            assertThat(done.get("status")).isEqualTo("completed");
            assertThat(((Map<?, ?>) done.get("ram")).get("total")).isEqualTo(MigrationPair.RAM);
            assertThat(source.execute("{\"execute\": \"query-status\"}")).isEqualTo(
                    "{\"return\": {\"status\": \"postmigrate\", \"singlestep\": false, \"running\": false}}");
            assertThat(pair.receivedEqualsSent()).isTrue();
            MigrationPair.awaitStatus(pair.destinationTarget, io.livemig.migration.status.MigrationStatus.COMPLETED);
            Map<?, ?> received = (Map<?, ?>) destination.returned("{\"execute\": \"query-migrate\"}");
            // As QEMU's destination: the status and (livemig's own measure) the times; no ram statistics, since
            // RDMA WRITEs land unseen, and no socket-address once the migration ended.
            assertThat(List.copyOf(received.keySet())).isEqualTo(List.of("status", "total-time", "setup-time"));
            assertThat(received.get("status")).isEqualTo("completed");
            // What the destination does see, exactly: the zero pages, which come as COMPRESS messages.
            long duplicate = ((Number) ((Map<?, ?>) done.get("ram")).get("duplicate")).longValue();
            assertThat(duplicate).isEqualTo(MigrationPair.ZERO_PAGES);
            assertThat(pair.destination.completion().block(MigrationPair.TIMEOUT).zeroPages()).isEqualTo(duplicate);
        }
    }
}
