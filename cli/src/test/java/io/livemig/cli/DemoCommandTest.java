package io.livemig.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class DemoCommandTest {

    @Test
    void migratesLiveRamInProcessAndVerifiesIt() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Livemig.run(new String[] {"demo", "--ram", "64M", "--progress", "lines"},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        String printed = out.toString(StandardCharsets.UTF_8);
        assertThat(status).as(printed + err).isZero();
        assertThat(printed).contains("Migration status: completed", "downtime: ", "memory identical: 64.0 MiB",
                "verification passed",
                "source: workload rewriting 16.0 MiB at 64.0 MiB/s; migrating over 'soft' on 127.0.0.1 with x-verify\n");
        assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    @Test
    void listensAndConnectsOnTheAddressGiven() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Livemig.run(new String[] {"demo", "--ram", "16M", "--progress", "none", "--pin-all",
            "--address", "127.0.0.2"},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        String printed = out.toString(StandardCharsets.UTF_8);
        assertThat(status).as(printed + err).isZero();
        assertThat(printed).contains("source: workload rewriting 4.0 MiB at 64.0 MiB/s; migrating over 'soft' on "
                + "127.0.0.2 with x-verify and rdma-pin-all\n", "memory identical: 16.0 MiB", "verification passed");
    }
}
