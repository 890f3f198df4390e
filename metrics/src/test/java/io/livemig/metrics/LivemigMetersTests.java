package io.livemig.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Meter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The documentation enum: Micrometer's naming rules, and the Prometheus names it derives against a real scrape. */
class LivemigMetersTests {

    @Test
    void namesAreDottedLowerCaseWithoutUnitsAndUnique() {
        Set<String> names = new TreeSet<>();
        for (LivemigMeters meter : LivemigMeters.values()) {
            assertThat(meter.getName()).matches("(migration|rdma)(\\.[a-z]+)+");
            assertThat(meter.getName()).doesNotEndWith(".bytes").doesNotEndWith(".seconds")
                    .doesNotEndWith(".total").doesNotEndWith(".count");
            assertThat(names.add(meter.getName())).as("unique: %s", meter.getName()).isTrue();
            assertThat(meter.getDescription()).isNotBlank().endsWith(".");
            assertThat(meter.getKeyNames()).hasSameSizeAs(meter.tags());
        }
    }

    @Test
    void timeIsInSecondsAndTagValuesAreBoundedLowerCase() {
        for (LivemigMeters meter : LivemigMeters.values()) {
            if (meter.getType() == Meter.Type.TIMER || meter.getType() == Meter.Type.LONG_TASK_TIMER) {
                assertThat(meter.getBaseUnit()).isEqualTo("seconds");
            }
        }
        for (MeterTag tag : MeterTag.values()) {
            assertThat(tag.asString()).matches("[a-z]+");
            assertThat(tag.tagValues()).isNotEmpty().hasSizeLessThanOrEqualTo(24)
                    .allMatch(value -> value.matches("[a-z_-]+"));
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {PrometheusEndpoint.TEXT_FORMAT, PrometheusEndpoint.OPENMETRICS_FORMAT})
    void prometheusNamesAreExactlyWhatAScrapeShows(String contentType) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        LivemigMetrics metrics = new LivemigMetrics();
        metrics.bindTo(registry);
        Events.everyEvent(metrics);

        Set<String> documented = Arrays.stream(LivemigMeters.values())
                .flatMap(meter -> meter.prometheusNames().stream())
                .collect(Collectors.toCollection(TreeSet::new));
        assertThat(Exposition.parse(registry.scrape(contentType)).names()).isEqualTo(documented);
    }

    @Test
    void familiesFollowMicrometersPrometheusConvention() {
        assertThat(LivemigMeters.REGISTRATION.prometheusNames()).containsExactly("migration_registration_seconds_count",
                "migration_registration_seconds_sum", "migration_registration_seconds_max");
        assertThat(LivemigMeters.RDMA_WRITE_DATA.prometheusNames())
                .containsExactly("migration_rdma_write_data_bytes_total");
        assertThat(LivemigMeters.REGISTERED_CHUNKS.prometheusNames())
                .containsExactly("migration_registered_chunks_total");
        assertThat(LivemigMeters.EXPECTED_DOWNTIME.prometheusNames())
                .containsExactly("migration_expected_downtime_seconds");
        assertThat(LivemigMeters.DIRTY_RATE.prometheusNames())
                .containsExactly("migration_dirty_rate_pages_per_second");
    }
}
