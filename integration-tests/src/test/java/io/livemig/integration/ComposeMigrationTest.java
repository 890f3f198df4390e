package io.livemig.integration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.testcontainers.containers.output.OutputFrame.OutputType.STDERR;
import static org.testcontainers.containers.output.OutputFrame.OutputType.STDOUT;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.utility.LogUtils;

/**
 * docker/compose.yaml as operators run it: Compose builds the image from the file's build section and starts the
 * file's {@code destination} and {@code source} services unchanged (the source migrates 1 GiB under its stress
 * workload at the default max-bandwidth, x-verify on); the test sees the migration complete on both ends and the
 * destination's "verification passed".
 *
 * <p>Only the two livemig services start: {@code prometheus} and {@code grafana} are public images that a host
 * without a registry cannot pull (and Grafana has no Debian package to build one from). They only watch: the
 * migration does not depend on them. The variables the file reads are set as an offline operator sets them:
 * {@code LIVEMIG_BASE_IMAGE} to the local base, {@code LIVEMIG_IMAGE} to a tag of this test's own.
 */
class ComposeMigrationTest {

    /** The image tag Compose builds and runs: the test's own, so that it never replaces an operator's livemig:dev. */
    private static final String IMAGE = "livemig:compose-it";
    /** Longest wait for the migration: it takes about 25 s (7 rounds) on a 2-core build machine. */
    private static final Duration MIGRATION = Duration.ofMinutes(3);
    /** Longest wait for one Compose command (the first build sends the jar and installs nothing: seconds). */
    private static final Duration COMMAND = Duration.ofMinutes(3);
    private static final Pattern DIRTY_SYNC_COUNT = Pattern.compile("(?m)^dirty sync count: (\\d+)$");

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void theComposeFileMigratesUnderItsWorkloadAndTheDestinationVerifies() throws Exception {
        ContainerHost.requireDockerBaseImageAndJar();
        List<String> compose = ContainerHost.composeCommand();
        ContainerHost.require(ContainerHost.required(), !compose.isEmpty(), () -> "no Compose: neither `docker "
                + "compose` nor `docker-compose` answers `version` (docker/ci-setup.sh installs docker-compose)");
        Path file = ContainerHost.repository().resolve("docker/compose.yaml");
        List<String> base = new ArrayList<>(compose);
        // A project name of this run's own: no clash with an operator's `livemig` project (docker/.env).
        base.addAll(List.of("-f", file.toString(), "-p", "livemig-it-" + ProcessHandle.current().pid()));
        Map<String, String> variables = Map.of("LIVEMIG_IMAGE", IMAGE, "LIVEMIG_BASE_IMAGE", ContainerHost.BASE_IMAGE);
        try {
            Result up = run(base, variables, "up", "--build", "-d", "destination", "source");
            assertThat(up.exitCode()).as("compose up:\n%s", up.output()).isZero();
            DockerClient docker = DockerClientFactory.instance().client();
            String destination = containerId(base, variables, "destination");
            String source = containerId(base, variables, "source");
            awaitExit(docker, source);
            awaitExit(docker, destination);
            String sourceLog = LogUtils.getOutput(docker, source, STDOUT, STDERR);
            String destinationLog = LogUtils.getOutput(docker, destination, STDOUT, STDERR);
            System.out.println("---- source (compose)\n" + sourceLog + "---- destination (compose)\n" + destinationLog);

            assertThat(exitCode(docker, source)).as("the source's exit code").isZero();
            assertThat(exitCode(docker, destination)).as("the destination's exit code").isZero();
            assertThat(sourceLog.lines()).contains("Migration status: completed");
            assertThat(destinationLog.lines()).contains("Migration status: completed", "verification passed");
            // Under the workload: more than the bulk round, so pages were dirtied and sent again.
            Matcher rounds = DIRTY_SYNC_COUNT.matcher(sourceLog);
            assertThat(rounds.find()).as("the source's 'dirty sync count' line").isTrue();
            assertThat(Integer.parseInt(rounds.group(1))).isGreaterThanOrEqualTo(2);
        } finally {
            Result down = run(base, variables, "down", "--volumes", "--remove-orphans");
            System.out.println("compose down: exit " + down.exitCode() + "\n" + down.output());
        }
    }

    private static String containerId(List<String> base, Map<String, String> variables, String service)
            throws IOException, InterruptedException {
        Result ps = run(base, variables, "ps", "-q", service);
        assertThat(ps.exitCode()).as("compose ps %s:\n%s", service, ps.output()).isZero();
        String id = ps.output().strip();
        assertThat(id).as("the container of %s", service).matches("[0-9a-f]{12,64}");
        return id;
    }

    private static void awaitExit(DockerClient docker, String id) throws InterruptedException {
        long deadline = System.nanoTime() + MIGRATION.toNanos();
        while (Boolean.TRUE.equals(state(docker, id).getRunning()) && System.nanoTime() < deadline) {
            Thread.sleep(500);
        }
        assertThat(state(docker, id).getRunning()).as("container %s still running after %s:\n%s", id, MIGRATION,
                LogUtils.getOutput(docker, id, STDOUT, STDERR)).isFalse();
    }

    private static InspectContainerResponse.ContainerState state(DockerClient docker, String id) {
        return docker.inspectContainerCmd(id).exec().getState();
    }

    private static long exitCode(DockerClient docker, String id) {
        return state(docker, id).getExitCodeLong();
    }

    /** A Compose command's exit code and its standard output and error together. */
    private record Result(int exitCode, String output) {
    }

    private static Result run(List<String> base, Map<String, String> variables, String... arguments)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(base);
        command.addAll(List.of(arguments));
        Path output = Files.createTempFile("livemig-compose", ".log");
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(output.toFile());
            builder.environment().putAll(variables);
            Process process = builder.start();
            if (!process.waitFor(COMMAND.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
                throw new AssertionError(String.join(" ", command) + " did not end within " + COMMAND + ":\n"
                        + new String(Files.readAllBytes(output), StandardCharsets.UTF_8));
            }
            return new Result(process.exitValue(), new String(Files.readAllBytes(output), StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(output);
        }
    }
}
