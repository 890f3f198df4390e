package io.livemig.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** README.md's embedding snippet is an excerpt of the sample it names, so that it compiles and runs as shown. */
class ReadmeExcerptTest {

    private static final String SAMPLE = "examples/src/main/java/io/livemig/examples/ReactorMigrationSample.java";

    @Test
    void theReadmeSnippetIsAnExcerptOfTheReactorSample() throws IOException {
        Path root = Path.of("").toAbsolutePath().getParent();
        List<String> readme = Files.readAllLines(root.resolve("README.md"));
        int marker = -1;
        for (int i = 0; i < readme.size(); i++) {
            if (readme.get(i).startsWith("// " + SAMPLE)) {
                marker = i;
                break;
            }
        }
        assertThat(marker).as("a snippet in README.md starting with // %s", SAMPLE).isNotNegative();
        List<String> snippet = readme.subList(marker + 1, readme.size()).stream()
                .takeWhile(line -> !line.startsWith("```"))
                .toList();

        // Compared line by line without indentation: the excerpt sits less deep than in the method.
        assertThat(snippet).isNotEmpty();
        assertThat(stripped(Files.readAllLines(root.resolve(SAMPLE)))).contains(stripped(snippet));
    }

    private static String stripped(List<String> lines) {
        return lines.stream().map(String::strip).collect(Collectors.joining("\n", "\n", "\n"));
    }
}
