package io.livemig.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The JVM and process binders, through a real scrape: Micrometer's names, beside livemig's own. */
class RuntimeMetricsTests {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final RuntimeMetrics runtime = new RuntimeMetrics();

    @AfterEach
    void close() {
        runtime.close();
        registry.close();
    }

    @Test
    void aScrapeShowsTheJvmAndTheProcessUnderMicrometersNames() {
        runtime.bindTo(registry);
        new LivemigMetrics().bindTo(registry);

        Exposition scraped = Exposition.parse(registry.scrape(PrometheusEndpoint.TEXT_FORMAT));
        assertThat(scraped.names()).contains(
                // The names docs/metrics.md gives.
                "jvm_memory_used_bytes", "jvm_memory_committed_bytes", "jvm_memory_max_bytes",
                "jvm_buffer_memory_used_bytes", "jvm_gc_memory_allocated_bytes_total",
                "jvm_gc_memory_promoted_bytes_total", "jvm_gc_live_data_size_bytes", "jvm_threads_live_threads",
                "jvm_threads_states_threads", "jvm_classes_loaded_classes", "process_cpu_usage", "system_cpu_usage",
                "system_cpu_count", "system_load_average_1m", "process_uptime_seconds", "process_start_time_seconds",
                "process_files_open_files", "process_files_max_files",
                "livemig_migration_outcomes_total");
        assertThat(scraped.value("jvm_memory_used_bytes", "area", "heap", "id", heapPool())).isPositive();
        assertThat(scraped.value("system_cpu_count")).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(scraped.value("jvm_threads_live_threads")).isEqualTo(Thread.getAllStackTraces().size(),
                Offset.offset(10.0));
        assertThat(scraped.value("process_files_open_files")).isPositive();
    }

    @Test
    void timesCollectionsUntilClosedAndClosesOnce() throws Exception {
        runtime.bindTo(registry);
        System.gc();
        // GC notifications arrive on a JMX thread after the collection.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (registry.find("jvm.gc.pause").timers().stream().mapToLong(timer -> timer.count()).sum() == 0
                && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(registry.find("jvm.gc.pause").timers()).isNotEmpty()
                .anySatisfy(timer -> assertThat(timer.count()).isPositive());
        assertThat(Exposition.parse(registry.scrape(PrometheusEndpoint.TEXT_FORMAT)).names())
                .contains("jvm_gc_pause_seconds_count", "jvm_gc_pause_seconds_sum", "jvm_gc_pause_seconds_max");
        runtime.close();
        runtime.close();
    }

    @Test
    void extraTagsGoOnEveryMeter() {
        try (RuntimeMetrics tagged = new RuntimeMetrics(Tags.of("role", "destination"))) {
            tagged.bindTo(registry);
            assertThat(registry.getMeters()).isNotEmpty()
                    .allSatisfy(meter -> assertThat(meter.getId().getTag("role")).isEqualTo("destination"));
        }
    }

    /** A heap pool of whichever collector runs the tests. */
    private String heapPool() {
        List<String> pools = registry.find("jvm.memory.used").tag("area", "heap").gauges().stream()
                .filter(gauge -> gauge.value() > 0)
                .map(gauge -> gauge.getId().getTag("id"))
                .toList();
        assertThat(pools).isNotEmpty();
        return pools.getFirst();
    }
}
