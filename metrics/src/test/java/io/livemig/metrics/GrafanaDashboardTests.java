package io.livemig.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code docker/grafana/livemig-dashboard.json} is well-formed, laid out, and queries only what livemig publishes:
 * every metric in every PromQL expression is a Prometheus name {@link LivemigMeters} documents, or one a scrape of
 * {@link RuntimeMetrics} shows, and every label is a tag of it (or a label Prometheus adds at scrape time).
 */
class GrafanaDashboardTests {

    static final Path DASHBOARD = Path.of("").toAbsolutePath().getParent()
            .resolve("docker/grafana/livemig-dashboard.json");
    /** Labels Prometheus attaches to every scraped series. */
    private static final Set<String> TARGET_LABELS = Set.of("instance", "job");
    private static final Set<String> KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left",
            "group_right", "bool", "and", "or", "unless", "offset");
    private static final Pattern IDENTIFIER = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern MATCHERS = Pattern.compile("\\{([^}]*)}");
    private static final Pattern GROUPING = Pattern.compile(
            "\\b(?:by|without|on|ignoring|group_left|group_right)\\s*\\(([^)]*)\\)");
    private static final Pattern SERIES_LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"");
    private static final Pattern LABEL_VALUES = Pattern.compile("label_values\\(\\s*([^,\\s]+)\\s*,\\s*(\\w+)\\s*\\)");

    private static JsonNode dashboard;
    /** The JVM and process series a real scrape shows ({@link RuntimeMetrics}), with their label names. */
    private static Map<String, Set<String>> runtime;

    @BeforeAll
    static void read() throws IOException {
        dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
    }

    @BeforeAll
    static void scrapeTheRuntime() throws InterruptedException {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (RuntimeMetrics metrics = new RuntimeMetrics()) {
            metrics.bindTo(registry);
            // GC pause timers appear with the first collection the binder hears of.
            System.gc();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (registry.find("jvm.gc.pause").timer() == null && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            runtime = new TreeMap<>();
            for (String series : Exposition.parse(registry.scrape(PrometheusEndpoint.TEXT_FORMAT)).samples()
                    .keySet()) {
                int brace = series.indexOf('{');
                Set<String> labels = runtime.computeIfAbsent(brace < 0 ? series : series.substring(0, brace),
                        name -> new TreeSet<>());
                Matcher label = SERIES_LABEL.matcher(brace < 0 ? "" : series.substring(brace));
                while (label.find()) {
                    labels.add(label.group(1));
                }
            }
        } finally {
            registry.close();
        }
        assertThat(runtime).containsKey("jvm_gc_pause_seconds_sum");
    }

    @Test
    void isADashboardWithUniquePanelsOnTheGrid() {
        assertThat(dashboard.path("title").asText()).isEqualTo("livemig");
        assertThat(dashboard.path("uid").asText()).matches("[a-zA-Z0-9_-]{1,40}");
        assertThat(dashboard.path("schemaVersion").asInt()).isPositive();
        Set<Integer> ids = new HashSet<>();
        for (JsonNode panel : panels()) {
            assertThat(ids.add(panel.path("id").asInt())).as("unique id of %s", panel.path("title")).isTrue();
            assertThat(panel.path("title").asText()).isNotBlank();
            JsonNode grid = panel.path("gridPos");
            int x = grid.path("x").asInt(-1);
            int w = grid.path("w").asInt(0);
            assertThat(x).isNotNegative();
            assertThat(w).isPositive();
            assertThat(x + w).as("right edge of %s", panel.path("title")).isLessThanOrEqualTo(24);
            assertThat(grid.path("h").asInt(0)).isPositive();
            if (!panel.path("type").asText().equals("row")) {
                assertThat(panel.path("datasource").path("uid").asText()).isEqualTo("${datasource}");
                assertThat(panel.path("targets")).as("targets of %s", panel.path("title")).isNotEmpty();
                for (JsonNode target : panel.path("targets")) {
                    assertThat(target.path("refId").asText()).isNotBlank();
                    assertThat(target.path("expr").asText()).isNotBlank();
                }
            }
        }
    }

    @Test
    void everyQueryNamesPublishedMetricsAndTheirTags() {
        Set<String> published = new TreeSet<>();
        for (LivemigMeters meter : LivemigMeters.values()) {
            published.addAll(meter.prometheusNames());
        }
        published.addAll(runtime.keySet());
        List<String> expressions = expressions();
        assertThat(expressions).isNotEmpty();
        for (String expr : expressions) {
            Query query = Query.parse(expr);
            assertThat(query.metrics()).as("metrics of %s", expr).isNotEmpty();
            assertThat(published).as("published names, against %s", expr).containsAll(query.metrics());
            Set<String> allowed = new HashSet<>(TARGET_LABELS);
            for (String metric : query.metrics()) {
                allowed.addAll(tagsOf(metric));
            }
            assertThat(allowed).as("labels of %s", expr).containsAll(query.labels());
        }
    }

    @Test
    void showsWhatOperatorsWatch() {
        Set<String> queried = expressions().stream().flatMap(expr -> Query.parse(expr).metrics().stream())
                .collect(Collectors.toSet());
        Stream.of(LivemigMeters.THROUGHPUT, LivemigMeters.RAM_REMAINING, LivemigMeters.DIRTY_RATE,
                        LivemigMeters.REGISTRATION, LivemigMeters.PINNED_MEMORY, LivemigMeters.OUTCOMES)
                .forEach(meter -> assertThat(queried).as("a panel of %s", meter.getName())
                        .containsAnyElementsOf(meter.prometheusNames()));
        assertThat(queried).contains("jvm_memory_used_bytes", "process_cpu_usage", "jvm_gc_pause_seconds_sum");
    }

    @Test
    void theQueryReaderFindsMetricsAndLabels() {
        Query query = Query.parse("sum by (side, mode) (rate(livemig_migration_registration_seconds_sum{"
                + "instance=~\"$x\",side!=\"a{b}\"}[$__rate_interval])) / on (side) group_left "
                + "livemig_rdma_receive_credits offset 5m");
        assertThat(query.metrics()).containsExactlyInAnyOrder("livemig_migration_registration_seconds_sum",
                "livemig_rdma_receive_credits");
        assertThat(query.labels()).containsExactlyInAnyOrder("side", "mode", "instance");
    }

    private static Set<String> tagsOf(String prometheusName) {
        for (LivemigMeters meter : LivemigMeters.values()) {
            if (meter.prometheusNames().contains(prometheusName)) {
                return meter.tags().stream().map(MeterTag::asString).collect(Collectors.toSet());
            }
        }
        return runtime.getOrDefault(prometheusName, Set.of());
    }

    private static List<JsonNode> panels() {
        List<JsonNode> all = new ArrayList<>();
        for (JsonNode panel : dashboard.path("panels")) {
            all.add(panel);
            panel.path("panels").forEach(all::add);
        }
        return all;
    }

    /** The PromQL of every panel target and of every query variable (as a {@code label_values} query). */
    private static List<String> expressions() {
        List<String> expressions = new ArrayList<>();
        for (JsonNode panel : panels()) {
            panel.path("targets").forEach(target -> expressions.add(target.path("expr").asText()));
        }
        for (JsonNode variable : dashboard.path("templating").path("list")) {
            if (variable.path("type").asText().equals("query")) {
                JsonNode query = variable.path("query");
                expressions.add(query.isObject() ? query.path("query").asText() : query.asText());
            }
        }
        return expressions;
    }

    /** What a PromQL expression (as this dashboard writes them) selects: metric names and label names. */
    record Query(Set<String> metrics, Set<String> labels) {

        static Query parse(String expr) {
            Set<String> labels = new TreeSet<>();
            Set<String> metrics = new TreeSet<>();
            Matcher labelValues = LABEL_VALUES.matcher(expr);
            if (labelValues.matches()) {
                metrics.add(labelValues.group(1));
                labels.add(labelValues.group(2));
                return new Query(metrics, labels);
            }
            String text = expr.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"")
                    .replaceAll("\\[[^]]*]", " ")
                    .replaceAll("\\$\\{?\\w+}?", " ");
            text = collect(MATCHERS, text, body -> {
                for (String matcher : body.split(",")) {
                    String name = matcher.split("[=!~]", 2)[0].trim();
                    if (!name.isEmpty()) {
                        labels.add(name);
                    }
                }
            });
            text = collect(GROUPING, text, body -> {
                Matcher names = IDENTIFIER.matcher(body);
                while (names.find()) {
                    labels.add(names.group());
                }
            });
            Matcher identifier = IDENTIFIER.matcher(text);
            while (identifier.find()) {
                String name = identifier.group();
                boolean call = text.substring(identifier.end()).stripLeading().startsWith("(");
                boolean number = identifier.start() > 0 && Character.isDigit(text.charAt(identifier.start() - 1));
                if (!call && !number && !KEYWORDS.contains(name)) {
                    metrics.add(name);
                }
            }
            return new Query(metrics, labels);
        }

        /** Hands each match's first group to {@code body} and blanks the match out. */
        private static String collect(Pattern pattern, String text, java.util.function.Consumer<String> body) {
            Matcher matcher = pattern.matcher(text);
            StringBuilder rest = new StringBuilder();
            while (matcher.find()) {
                body.accept(matcher.group(1));
                matcher.appendReplacement(rest, " ");
            }
            matcher.appendTail(rest);
            return rest.toString();
        }
    }
}
