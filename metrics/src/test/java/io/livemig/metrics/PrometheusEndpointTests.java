package io.livemig.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The scrape endpoint over real HTTP: both formats by negotiation, the documented names, values that move. */
class PrometheusEndpointTests {

    /** What Prometheus 2.x and 3.x send by default. */
    private static final String PROMETHEUS_ACCEPT = "application/openmetrics-text;version=1.0.0,"
            + "application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final LivemigMetrics metrics = new LivemigMetrics();
    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private PrometheusEndpoint endpoint;

    @BeforeEach
    void start() throws IOException {
        metrics.bindTo(registry);
        endpoint = PrometheusEndpoint.start(registry, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    @AfterEach
    void stop() {
        endpoint.close();
        client.close();
    }

    private HttpResponse<String> get(String path, String accept) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoint.port() + path))
                .timeout(Duration.ofSeconds(10));
        if (accept != null) {
            request.header("Accept", accept);
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void servesTheTextFormatWithEveryDocumentedName() throws Exception {
        Events.everyEvent(metrics);
        HttpResponse<String> response = get(PrometheusEndpoint.PATH, null);

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValue(PrometheusEndpoint.TEXT_FORMAT);
        assertThat(response.body()).contains("# TYPE livemig_migration_rdma_write_data_bytes_total counter")
                .doesNotContain("# EOF");
        Exposition scraped = Exposition.parse(response.body());
        for (LivemigMeters meter : LivemigMeters.values()) {
            assertThat(scraped.names()).containsAll(meter.prometheusNames());
        }
        assertThat(scraped.value("livemig_migration_registration_seconds_count", "side", "source", "mode", "dynamic"))
                .isEqualTo(1.0);
        assertThat(scraped.value("livemig_migration_ram_remaining_bytes")).isEqualTo(3.0 * Events.MIB);
        assertThat(scraped.value("livemig_rdma_cq_completions_total", "opcode", "recv", "status", "wr_flush_err"))
                .isEqualTo(1.0);
    }

    @Test
    void servesOpenMetricsToPrometheus() throws Exception {
        Events.everyEvent(metrics);
        HttpResponse<String> response = get(PrometheusEndpoint.PATH, PROMETHEUS_ACCEPT);

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValue(PrometheusEndpoint.OPENMETRICS_FORMAT);
        // OpenMetrics names a counter's family without _total and ends with EOF.
        assertThat(response.body()).contains("# TYPE livemig_migration_rdma_write_data_bytes counter")
                .endsWith("# EOF\n");
        Exposition scraped = Exposition.parse(response.body());
        for (LivemigMeters meter : LivemigMeters.values()) {
            assertThat(scraped.names()).containsAll(meter.prometheusNames());
        }
        assertThat(scraped.value("livemig_migration_outcomes_total", "side", "source", "outcome", "completed"))
                .isEqualTo(1.0);
    }

    @Test
    void valuesMoveBetweenScrapesWhileTheRecorderIsFed() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch started = new CountDownLatch(1);
        Thread writer = Thread.ofPlatform().name("writes").start(() -> {
            metrics.migrationStarted(io.livemig.migration.observe.MigrationRecorder.Side.SOURCE,
                    io.livemig.migration.observe.MigrationRecorder.Mode.DYNAMIC);
            started.countDown();
            while (!stop.get()) {
                metrics.rdmaWritePosted(Events.MIB);
                metrics.rdmaWriteCompleted(10_000);
                metrics.eventLoopRun(false);
                Thread.onSpinWait();
            }
        });
        try {
            assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
            double[] written = new double[3];
            for (int i = 0; i < written.length; i++) {
                long before = (long) registry.get("livemig.migration.rdma.writes").functionCounter().count();
                while (registry.get("livemig.migration.rdma.writes").functionCounter().count() == before) {
                    Thread.onSpinWait();
                }
                Exposition scraped = Exposition.parse(get(PrometheusEndpoint.PATH, PROMETHEUS_ACCEPT).body());
                written[i] = scraped.value("livemig_migration_rdma_write_data_bytes_total");
                assertThat(scraped.value("livemig_migration_active_seconds_count", "side", "source")).isEqualTo(1.0);
            }
            assertThat(written[1]).isGreaterThan(written[0]);
            assertThat(written[2]).isGreaterThan(written[1]);
        } finally {
            stop.set(true);
            writer.join();
        }
    }

    @Test
    void answersNotFoundElsewhere() throws Exception {
        assertThat(get("/", null).statusCode()).isEqualTo(404);
        assertThat(get("/metrics/x", null).statusCode()).isEqualTo(404);
    }

    @Test
    void negotiatesTheFormatByQuality() {
        assertThat(PrometheusEndpoint.contentType(null)).isEqualTo(PrometheusEndpoint.TEXT_FORMAT);
        assertThat(PrometheusEndpoint.contentType("*/*")).isEqualTo(PrometheusEndpoint.TEXT_FORMAT);
        assertThat(PrometheusEndpoint.contentType(PROMETHEUS_ACCEPT)).isEqualTo(PrometheusEndpoint.OPENMETRICS_FORMAT);
        assertThat(PrometheusEndpoint.contentType("application/openmetrics-text"))
                .isEqualTo(PrometheusEndpoint.OPENMETRICS_FORMAT);
        assertThat(PrometheusEndpoint.contentType("text/plain;version=0.0.4;q=1,application/openmetrics-text;q=0.5"))
                .isEqualTo(PrometheusEndpoint.TEXT_FORMAT);
        assertThat(PrometheusEndpoint.contentType("Application/OpenMetrics-Text; Q=0.9, text/plain; q=0.2"))
                .isEqualTo(PrometheusEndpoint.OPENMETRICS_FORMAT);
        assertThat(PrometheusEndpoint.contentType("application/openmetrics-text;q=0"))
                .isEqualTo(PrometheusEndpoint.TEXT_FORMAT);
        assertThat(PrometheusEndpoint.contentType("application/openmetrics-text;q=bad"))
                .isEqualTo(PrometheusEndpoint.TEXT_FORMAT);
    }

    @Test
    void byPortAloneItListensOnLoopbackOnly() throws Exception {
        try (PrometheusEndpoint byPort = PrometheusEndpoint.start(registry, 0)) {
            assertThat(byPort.address().getAddress()).isEqualTo(InetAddress.getLoopbackAddress());
            assertThat(byPort.address().getAddress().isAnyLocalAddress()).isFalse();
        }
    }

    @Test
    void refusesAPortInUse() {
        assertThatThrownBy(() -> PrometheusEndpoint.start(registry, endpoint.address()))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("cannot serve metrics on");
    }

    @Test
    void closeAfterServesUntilClosedAndThenReleasesThePort() throws Exception {
        Events.everyEvent(metrics);
        CompletableFuture<Void> closed = endpoint.closeAfter(Duration.ofMinutes(10));

        HttpResponse<String> response = get(PrometheusEndpoint.PATH, null);
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(Exposition.parse(response.body()).value("livemig_migration_outcomes_total", "side", "source",
                "outcome", "completed")).isEqualTo(1.0);
        assertThat(closed).isNotDone();
        endpoint.close();
        assertThat(closed).isCompleted();
        assertThatThrownBy(() -> get(PrometheusEndpoint.PATH, null)).isInstanceOf(ConnectException.class);
    }

    @Test
    void closeAfterClosesOnceTheLingerIsOver() throws Exception {
        endpoint.closeAfter(Duration.ofMillis(50)).get(10, TimeUnit.SECONDS);

        assertThatThrownBy(() -> get(PrometheusEndpoint.PATH, null)).isInstanceOf(ConnectException.class);
        assertThat(endpoint.toString()).endsWith(", closed]");
        assertThat(endpoint.closeAfter(Duration.ZERO)).isCompleted();
        assertThatThrownBy(() -> endpoint.closeAfter(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("negative linger: PT-1S");
    }

    @Test
    void closingReleasesThePortAndCanBeRepeated() throws Exception {
        int port = endpoint.port();
        endpoint.close();
        endpoint.close();
        assertThatThrownBy(() -> get(PrometheusEndpoint.PATH, null)).isInstanceOf(ConnectException.class);
        // The port is free again.
        try (PrometheusEndpoint again = PrometheusEndpoint.start(registry,
                new InetSocketAddress(InetAddress.getLoopbackAddress(), port))) {
            assertThat(again.port()).isEqualTo(port);
        }
    }
}
