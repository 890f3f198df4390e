package io.livemig.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A destination process with {@code --metrics-port}: after its migration ended it goes on serving {@code /metrics}
 * for {@code --metrics-linger}, with livemig's final counters and the JVM's meters, then exits with its status.
 */
class DestinationMetricsTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final Pattern METRICS_PORT = Pattern.compile("metrics on http://127\\.0\\.0\\.1:(\\d+)/metrics");

    private static LivemigProcess destination(int port, String linger, String... more) throws Exception {
        List<String> args = new ArrayList<>(List.of("destination", "--incoming", "rdma:127.0.0.1:" + port,
                "--provider", "soft", "--ram", "64M", "--progress", "none", "--metrics-port", "0",
                "--metrics-linger", linger));
        args.addAll(List.of(more));
        LivemigProcess destination = LivemigProcess.start(args.toArray(String[]::new));
        destination.awaitOutput("listening on rdma:127.0.0.1:" + port, TIMEOUT);
        return destination;
    }

    /** The source runs in this JVM: one process start less, and the destination is the one under test. */
    private static CompletableFuture<Integer> source(int port, String... more) {
        List<String> args = new ArrayList<>(List.of("source", "--ram", "16M", "--fill", "random", "--provider",
                "soft", "--progress", "none", "--migrate", "rdma:127.0.0.1:" + port));
        args.addAll(List.of(more));
        PrintStream discard = new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8);
        return CompletableFuture.supplyAsync(() -> Livemig.run(args.toArray(String[]::new), discard, discard));
    }

    @Test
    void servesTheFinalCountersAndTheJvmsUntilQuit() throws Exception {
        int port = LivemigProcess.freePort();
        try (LivemigProcess destination = destination(port, "10m", "--monitor", "stdio")) {
            assertThat(source(port).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isZero();
            String output = destination.awaitOutput("serving metrics for 600s more", TIMEOUT);
            assertThat(output).contains("received 1 RAM block(s), 16.0 MiB");

            List<String> scrape = scrape(metricsPort(output)).lines().toList();
            assertThat(scrape).contains(
                    "livemig_migration_outcomes_total{outcome=\"completed\",side=\"destination\"} 1.0",
                    "livemig_migration_outcomes_total{outcome=\"failed\",side=\"destination\"} 0.0",
                    "livemig_migration_duration_seconds_count{outcome=\"completed\",side=\"destination\"} 1",
                    "livemig_migration_active_seconds_count{side=\"destination\"} 0");
            assertThat(scrape).anyMatch(line -> line.startsWith("jvm_memory_used_bytes{area=\"heap\","))
                    .anyMatch(line -> line.startsWith("process_cpu_usage "))
                    .anyMatch(line -> line.startsWith("jvm_gc_memory_allocated_bytes_total "))
                    .anyMatch(line -> line.startsWith("process_files_open_files "));
            // quit ends the linger at once; the status is still the migration's.
            destination.send("quit");
            assertThat(destination.awaitExit(TIMEOUT)).as(destination.output()).isZero();
        }
    }

    @Test
    void lingersAfterAFailureTooThenExitsWithItsStatus() throws Exception {
        int port = LivemigProcess.freePort();
        // --verify, and a source that sends no checksums: the migration ends, the destination fails it.
        try (LivemigProcess destination = destination(port, "1500ms", "--verify")) {
            assertThat(source(port).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isZero();
            assertThat(destination.awaitExit(TIMEOUT)).as(destination.output()).isEqualTo(Livemig.FAILURE);
            List<String> lines = destination.output().lines().toList();
            assertThat(lines).last().isEqualTo("serving metrics for 1.5s more");
            assertThat(lines).contains("livemig destination: verification failed: the source sent no x-verify "
                    + "checksums (set the x-verify capability on the source)");
        }
    }

    @Test
    void refusesADurationItCannotRead() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Livemig.run(new String[] {"destination", "--incoming", "rdma:127.0.0.1:0", "--metrics-linger",
            "soon"}, new PrintStream(OutputStream.nullOutputStream()), new PrintStream(err, true,
                StandardCharsets.UTF_8));
        assertThat(status).isEqualTo(Livemig.USAGE);
        assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("livemig destination: Invalid value for option "
                + "'--metrics-linger': 'soon' is not a duration: give seconds (30) or a whole number with ms, s, m or h "
                + "(500ms, 2m) (see 'livemig destination --help')\n");
    }

    private static int metricsPort(String output) {
        Matcher matcher = METRICS_PORT.matcher(output);
        assertThat(matcher.find()).as(output).isTrue();
        return Integer.parseInt(matcher.group(1));
    }

    private static String scrape(int port) throws Exception {
        try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            HttpResponse<String> response = client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/metrics")).timeout(TIMEOUT).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
            return response.body();
        }
    }
}
