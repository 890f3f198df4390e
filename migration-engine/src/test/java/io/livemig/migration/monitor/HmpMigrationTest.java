package io.livemig.migration.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.migration.auth.AuthKey;
import io.livemig.migration.status.MigrationStatus;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** A whole migration driven only through HMP, the way an operator types it into QEMU's monitor. */
class HmpMigrationTest {

    @Test
    void aMigrationDrivenThroughHmpCompletesWithTheSameMemory() throws Exception {
        try (MigrationPair pair = new MigrationPair()) {
            HmpMonitor destination = new HmpMonitor(pair.destinationTarget);
            assertThat(destination.execute("migrate_incoming rdma:127.0.0.1:0")).isEmpty();
            String socket = destination.execute("info migrate");
            String uri = socket.substring(socket.indexOf("rdma:"), socket.lastIndexOf('\n'));

            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            String script = String.join("\n", "migrate_set_capability x-verify on",
                    "migrate_set_parameter max-bandwidth 1g", "migrate " + uri, "info migrate", "quit", "");
            try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
                // Without -d, migrate returns once the migration ended, as QEMU's HMP does.
                new HmpMonitor(pair.sourceTarget).serve(new BufferedReader(new StringReader(script)), out);
            }

            String printed = bytes.toString(StandardCharsets.UTF_8);
            assertThat(printed).startsWith("(livemig) (livemig) (livemig) (livemig) Migration status: completed\n")
                    .contains("\ntotal ram: 8192 kbytes\n", "\nremaining ram: 0 kbytes\n", "\ndowntime: ")
                    .endsWith("\n(livemig) ");
            assertThat(pair.sourceQuits).hasValue(1);
            assertThat(pair.receivedEqualsSent()).isTrue();
            MigrationPair.awaitStatus(pair.destinationTarget, MigrationStatus.COMPLETED);
            // QEMU's destination shows no RAM statistics (its pages arrive by RDMA WRITE, unseen): no zeros either.
            assertThat(destination.execute("info migrate"))
                    .matches("Migration status: completed\ntotal time: \\d+ ms\nsetup: \\d+ ms");
        }
    }

    @Test
    void aFailedMigrationPrintsWhyWhenNotDetached() throws Exception {
        try (MigrationPair pair = new MigrationPair()) {
            // Nothing listens there: the connection fails and migrate reports it once the migration ended.
            String answer = new HmpMonitor(pair.sourceTarget).execute("migrate rdma:127.0.0.1:9");
            assertThat(answer).startsWith("Error: ");
            assertThat(pair.sourceTarget.info().status()).isEqualTo(MigrationStatus.FAILED);
            assertThat(answer).isEqualTo("Error: " + pair.sourceTarget.info().errorDesc());
        }
    }

    @Test
    void theMonitorsMigrateUsesTheSourcesKey() throws Exception {
        AuthKey key = AuthKey.of("a key both ends hold, 32 bytes..".getBytes(StandardCharsets.US_ASCII));
        try (MigrationPair pair = new MigrationPair(key, key)) {
            String uri = pair.listen();
            HmpMonitor source = new HmpMonitor(pair.sourceTarget);
            assertThat(source.execute("migrate_set_capability x-verify on")).isEmpty();
            assertThat(source.execute("migrate " + uri)).isEmpty();
            assertThat(pair.receivedEqualsSent()).isTrue();
        }
    }

    @Test
    void aMonitorsMigrateWithoutTheDestinationsKeyIsRejectedForAuthentication() throws Exception {
        AuthKey key = AuthKey.of("a key only the destination holds".getBytes(StandardCharsets.US_ASCII));
        try (MigrationPair pair = new MigrationPair(null, key)) {
            String uri = pair.listen();
            assertThat(new HmpMonitor(pair.sourceTarget).execute("migrate " + uri)).isEqualTo("Error: the destination "
                    + "at " + uri.substring("rdma:".length()) + " rejected the connection: authentication failed "
                    + "(check --auth-key-file on both ends)");
            assertThat(pair.destinationTarget.info().status()).isEqualTo(MigrationStatus.NONE);
        }
    }
}
