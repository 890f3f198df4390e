package io.livemig.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Meter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * {@code docs/metrics.md} cannot drift from {@link LivemigMeters}: its generated part, between the markers, must be
 * exactly what this test renders from the enum. Run it with {@code -Dlivemig.docs.write=true} to rewrite that part
 * after changing a meter.
 */
class MetricsDocumentationTests {

    static final Path DOC = Path.of("").toAbsolutePath().getParent().resolve("docs/metrics.md");
    private static final String BEGIN = "<!-- BEGIN GENERATED from LivemigMeters by MetricsDocumentationTests -->";
    private static final String END = "<!-- END GENERATED -->";

    @Test
    void theDocsListEveryMeterAsTheEnumDocumentsIt() throws IOException {
        String doc = Files.readString(DOC, StandardCharsets.UTF_8);
        int begin = doc.indexOf(BEGIN);
        int end = doc.indexOf(END);
        assertThat(begin).as("the BEGIN marker in %s", DOC).isNotNegative();
        assertThat(end).as("the END marker in %s", DOC).isGreaterThan(begin);
        String expected = doc.substring(0, begin + BEGIN.length()) + "\n" + render() + doc.substring(end);
        if (Boolean.getBoolean("livemig.docs.write")) {
            Files.writeString(DOC, expected, StandardCharsets.UTF_8);
            doc = expected;
        }
        assertThat(doc).as("%s is out of date: run MetricsDocumentationTests with -Dlivemig.docs.write=true", DOC)
                .isEqualTo(expected);
    }

    /** The meter tables, one per group, and the tag values. */
    static String render() {
        StringBuilder out = new StringBuilder();
        for (LivemigMeters.Group group : LivemigMeters.Group.values()) {
            out.append("\n### ").append(group.title()).append("\n\n");
            out.append("| Meter | Prometheus series | Type | Unit | Tags | Meaning |\n");
            out.append("|---|---|---|---|---|---|\n");
            for (LivemigMeters meter : LivemigMeters.values()) {
                if (meter.group() != group) {
                    continue;
                }
                out.append("| `").append(meter.getName()).append("` | ")
                        .append(meter.prometheusNames().stream().map(name -> "`" + name + "`")
                                .collect(Collectors.joining("<br>")))
                        .append(" | ").append(type(meter.getType()))
                        .append(" | ").append(meter.getBaseUnit() == null ? "" : meter.getBaseUnit())
                        .append(" | ").append(meter.tags().isEmpty() ? "none" : meter.tags().stream()
                                .map(tag -> "`" + tag.asString() + "`").collect(Collectors.joining(", ")))
                        .append(" | ").append(meter.getDescription()).append(" |\n");
            }
        }
        out.append("\n### Tag values\n\n");
        out.append("| Tag | On | Values |\n");
        out.append("|---|---|---|\n");
        for (MeterTag tag : MeterTag.values()) {
            List<String> on = Arrays.stream(LivemigMeters.values()).filter(meter -> meter.tags().contains(tag))
                    .map(meter -> "`" + meter.getName() + "`").toList();
            out.append("| `").append(tag.asString()).append("` | ").append(String.join(", ", on)).append(" | ")
                    .append(tag.tagValues().stream().map(value -> "`" + value + "`").collect(Collectors.joining(", ")))
                    .append(" |\n");
        }
        return out.append('\n').toString();
    }

    private static String type(Meter.Type type) {
        return type.name().toLowerCase(Locale.ROOT).replace('_', ' ');
    }
}
