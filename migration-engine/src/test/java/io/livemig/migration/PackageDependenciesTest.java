package io.livemig.migration;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The engine's package layout shows its architecture only while the dependencies between its packages
 * form no cycle: {@code api} sits on top (it may use everything), the building blocks below it never
 * reach back up. Read from the sources (imports and qualified names), so it needs no library.
 */
class PackageDependenciesTest {

    private static final Path SOURCES = Path.of("src/main/java/io/livemig/migration");
    private static final Pattern REFERENCE = Pattern.compile("io\\.livemig\\.migration\\.([a-z]+)\\.");

    @Test
    void theEnginesPackagesFormNoCycle() throws IOException {
        Map<String, Set<String>> uses = new TreeMap<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                String from = SOURCES.relativize(file.getParent()).toString();
                Matcher matcher = REFERENCE.matcher(Files.readString(file));
                while (matcher.find()) {
                    if (!matcher.group(1).equals(from)) {
                        uses.computeIfAbsent(from, k -> new TreeSet<>()).add(matcher.group(1));
                    }
                }
            }
        }
        assertThat(uses).containsKeys("api", "source", "destination", "control");
        List<String> cycles = new ArrayList<>();
        for (String start : uses.keySet()) {
            findCycle(start, start, uses, new ArrayList<>(List.of(start)), cycles);
        }
        assertThat(cycles).as("package cycles").isEmpty();
        assertThat(uses.getOrDefault("source", Set.of())).doesNotContain("api");
        assertThat(uses.getOrDefault("destination", Set.of())).doesNotContain("api");
    }

    private static void findCycle(String start, String at, Map<String, Set<String>> uses, List<String> path,
            List<String> cycles) {
        for (String next : uses.getOrDefault(at, Set.of())) {
            if (next.equals(start)) {
                cycles.add(String.join(" -> ", path) + " -> " + start);
            } else if (!path.contains(next) && next.compareTo(start) > 0) {
                path.add(next);
                findCycle(start, next, uses, path, cycles);
                path.removeLast();
            }
        }
    }
}
