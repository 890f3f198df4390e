package io.livemig.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.migration.observe.MigrationRecorder.Mode;
import io.livemig.migration.observe.MigrationRecorder.Outcome;
import io.livemig.migration.observe.MigrationRecorder.Side;
import io.livemig.migration.protocol.ControlType;
import io.micrometer.core.instrument.Meter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Arrays;
import java.util.List;
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
            assertThat(meter.getName()).matches("livemig\\.(migration|rdma)(\\.[a-z]+)+");
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
    void aScrapeShowsEverySeriesUnderTheLivemigPrefixWithQemusWords() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        LivemigMetrics metrics = new LivemigMetrics();
        metrics.bindTo(registry);
        metrics.migrationStarted(Side.DESTINATION, Mode.DYNAMIC);
        metrics.controlMessage(Side.DESTINATION, ControlType.REGISTER_REQUEST, false, 36);
        metrics.qemuFileBytes(Side.DESTINATION, 984);
        metrics.migrationEnded(Side.DESTINATION, Outcome.COMPLETED, 2_500_000_000L, -1);

        List<String> lines = registry.scrape(PrometheusEndpoint.TEXT_FORMAT).lines().toList();
        assertThat(lines).contains(
                "# TYPE livemig_migration_outcomes_total counter",
                "livemig_migration_outcomes_total{outcome=\"completed\",side=\"destination\"} 1.0",
                "livemig_migration_outcomes_total{outcome=\"failed\",side=\"destination\"} 0.0",
                "livemig_migration_duration_seconds_count{outcome=\"completed\",side=\"destination\"} 1",
                "livemig_migration_duration_seconds_sum{outcome=\"completed\",side=\"destination\"} 2.5",
                "livemig_migration_qemu_file_data_bytes_total{side=\"destination\"} 984.0",
                "livemig_migration_control_messages_total{direction=\"received\",side=\"destination\","
                        + "type=\"register_request\"} 1.0",
                "livemig_migration_active_seconds_count{side=\"destination\"} 0");
        assertThat(lines).filteredOn(line -> !line.startsWith("#")).isNotEmpty()
                .allMatch(line -> line.startsWith("livemig_migration_") || line.startsWith("livemig_rdma_"));
    }

    @Test
    void familiesFollowMicrometersPrometheusConvention() {
        assertThat(LivemigMeters.REGISTRATION.prometheusNames()).containsExactly(
                "livemig_migration_registration_seconds_count",
                "livemig_migration_registration_seconds_sum", "livemig_migration_registration_seconds_max");
        assertThat(LivemigMeters.RDMA_WRITE_DATA.prometheusNames())
                .containsExactly("livemig_migration_rdma_write_data_bytes_total");
        assertThat(LivemigMeters.REGISTERED_CHUNKS.prometheusNames())
                .containsExactly("livemig_migration_registered_chunks_total");
        assertThat(LivemigMeters.EXPECTED_DOWNTIME.prometheusNames())
                .containsExactly("livemig_migration_expected_downtime_seconds");
        assertThat(LivemigMeters.DIRTY_RATE.prometheusNames())
                .containsExactly("livemig_migration_dirty_rate_pages_per_second");
    }
}
