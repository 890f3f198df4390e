package io.livemig.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shell launchers at the repository's root and in {@code scripts/}: they run a JDK 25+, never the {@code java}
 * that comes first on {@code PATH} (JDK 17 on the build hosts), and show the first build's progress on standard
 * error only. The documentation runs programs through them, never through a plain {@code java}.
 */
class LaunchersTest {

    /** The repository: Surefire runs in the module's directory. */
    private static final Path ROOT = Path.of("").toAbsolutePath().getParent();

    @TempDir
    Path temp;

    @Test
    void benchmarksLauncherRunsTheJdkItFindsNotTheJavaOnPath() throws Exception {
        Path calls = temp.resolve("old-java-calls");
        Path bin = Files.createDirectories(temp.resolve("bin"));
        executable(bin.resolve("java"), "#!/bin/sh\necho \"$@\" >> '" + calls + "'\n"
                + "echo 'openjdk version \"17.0.2\" 2022-01-18' >&2\nexit 1\n");
        ProcessBuilder launcher = new ProcessBuilder("scripts/benchmarks.sh", "--main", Livemig.class.getName(),
                "--version").directory(ROOT.toFile());
        Map<String, String> env = launcher.environment();
        env.put("PATH", bin + ":/usr/bin:/bin");
        env.put("JAVA_HOME", System.getProperty("java.home"));
        // The test class path instead of the benchmarks jar, which this module's build does not make.
        env.put("LIVEMIG_BENCH_CLASSPATH", System.getProperty("java.class.path"));

        Result result = run(launcher);

        assertThat(result.status()).as(result.err()).isZero();
        assertThat(result.out()).endsWith("; Java " + Runtime.version().feature() + ")\n");
        assertThat(result.err()).isEmpty();
        assertThat(calls).doesNotExist();
    }

    @Test
    void buildProgressIsOneLinePerModuleOnStandardErrorAndTheLogKeepsEverything() throws Exception {
        String maven = """
                [INFO] Scanning for projects...
                [INFO] ---------------------< io.livemig:livemig-parent >----------------------
                [INFO] Building livemig (parent) 0.1.0-SNAPSHOT                           [1/2]
                [INFO]   from pom.xml
                [INFO] -----------------< io.livemig:livemig-transport-rdma >------------------
                [INFO] Building livemig RDMA transport (verbs SPI, providers, Netty channel) 0.1.0-SNAPSHOT [2/2]
                [INFO] BUILD SUCCESS
                """;
        Path log = temp.resolve("build.log");
        ProcessBuilder filter = new ProcessBuilder("sh", "-c",
                ". .mvn/build-jar.sh && livemig_build_progress \"$0\" \"$(date +%s)\"", log.toString())
                .directory(ROOT.toFile());

        Result result = run(filter, maven);

        assertThat(result.status()).isZero();
        assertThat(result.out()).isEmpty();
        assertThat(result.err().lines().toList()).hasSize(2);
        assertThat(result.err().lines().toList().get(0)).matches("livemig: \\[1/2] livemig \\(parent\\) \\(\\d+s\\)");
        assertThat(result.err().lines().toList().get(1))
                .matches("livemig: \\[2/2] livemig RDMA transport \\(verbs SPI, providers, Netty channel\\) \\(\\d+s\\)");
        assertThat(Files.readString(log)).isEqualTo(maven);
    }

    @Test
    void aFailedBuildShowsMavensErrorsAndExitsWithItsStatus() throws Exception {
        Path home = Files.createDirectories(temp.resolve("home"));
        executable(home.resolve("mvnw"), "#!/bin/sh\necho '[INFO] Building livemig command line 1.0 [1/1]'\n"
                + "echo '[INFO] compiling'\necho '[ERROR] cli/src/main/java/X.java: boom'\nexit 3\n");
        ProcessBuilder build = new ProcessBuilder("sh", "-c", "set -eu; LIVEMIG_HOME=$0; . \"$1/.mvn/build-jar.sh\"; "
                + "livemig_build \"$0/cli.jar\" cli; echo not reached", home.toString(), ROOT.toString())
                .directory(ROOT.toFile());
        build.environment().put("TMPDIR", temp.toString());

        Result result = run(build);

        assertThat(result.status()).isEqualTo(3);
        assertThat(result.out()).isEmpty();
        List<String> err = result.err().lines().toList();
        assertThat(err).hasSize(4);
        assertThat(err.get(0)).isEqualTo("livemig: building " + home + "/cli.jar (first run or sources changed; "
                + "the first build takes a minute or two) ...");
        assertThat(err.get(1)).matches("livemig: \\[1/1] livemig command line \\(\\d+s\\)");
        assertThat(err.get(2)).isEqualTo("[ERROR] cli/src/main/java/X.java: boom");
        assertThat(err.get(3)).startsWith("livemig: the build failed (exit status 3); Maven's output is in " + temp
                + "/livemig-build.");
    }

    @Test
    void documentationNeverRunsAPlainJava() throws IOException {
        // `java -...` at the start of a line, after a space, a backquote or a parenthesis: a command that would
        // run whatever `java` comes first on PATH.
        Pattern plainJava = Pattern.compile("(^|[\\s`(])java (-|--)[a-zA-Z]");
        List<Path> docs;
        try (Stream<Path> files = Files.list(ROOT.resolve("docs"))) {
            docs = Stream.concat(Stream.of(ROOT.resolve("README.md"), ROOT.resolve("benchmarks/pom.xml")),
                    files.filter(f -> f.toString().endsWith(".md"))).toList();
        }
        for (Path doc : docs) {
            List<String> lines = Files.readAllLines(doc);
            for (int i = 0; i < lines.size(); i++) {
                assertThat(plainJava.matcher(lines.get(i)).find())
                        .as("%s:%d runs a plain java: %s", ROOT.relativize(doc), i + 1, lines.get(i))
                        .isFalse();
            }
        }
    }

    private record Result(int status, String out, String err) {
    }

    private static Result run(ProcessBuilder builder) throws Exception {
        return run(builder, "");
    }

    private static Result run(ProcessBuilder builder, String input) throws Exception {
        Path out = Files.createTempFile("launcher", ".out");
        Path err = Files.createTempFile("launcher", ".err");
        try {
            Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            try (var stdin = process.getOutputStream()) {
                stdin.write(input.getBytes(StandardCharsets.UTF_8));
            }
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError(builder.command() + " did not finish in 60 s");
            }
            return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    private static void executable(Path file, String content) throws IOException {
        Files.writeString(file, content);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
}
