package io.livemig.integration;

import com.github.dockerjava.api.exception.NotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.testcontainers.DockerClientFactory;

/**
 * What the container tests need from the host (a Docker engine, the offline base image, the livemig jar, a
 * Compose) and what a test does when one is missing: it skips, saying why, on a developer's machine; it fails,
 * saying why, where CI prepared Docker.
 *
 * <p>{@code .ci/run} exports {@value #REQUIRE_DOCKER}{@code =1} once {@code docker/ci-setup.sh} has installed and
 * started the engine and built the base image. From then on a missing piece is a broken CI, not an absent
 * feature: a skip would let CI pass without running the container suite.
 */
final class ContainerHost {

    /** The environment variable that turns every "skip" of this class into a failure when it is {@code 1}. */
    static final String REQUIRE_DOCKER = "LIVEMIG_REQUIRE_DOCKER";

    /** The offline base docker/build-base.sh makes (docker/ci-setup.sh runs it). */
    static final String BASE_IMAGE = System.getProperty("livemig.it.baseImage", "livemig/base:debian-jdk25");

    /**
     * The first failure's reason: Testcontainers answers later calls only "Previous attempts to find a Docker
     * environment failed", so every test repeats the first, informative one.
     */
    private static String dockerFailure;

    private ContainerHost() {
    }

    /**
     * Whether CI prepared Docker, so that the container tests must run.
     *
     * @return true when {@value #REQUIRE_DOCKER} is {@code 1}
     */
    static boolean required() {
        return "1".equals(System.getenv(REQUIRE_DOCKER));
    }

    /**
     * Goes on when {@code present}; otherwise fails the test when {@code required}, else skips it, with the
     * reason {@code why} gives either way.
     *
     * @param required whether a missing piece is a failure ({@link #required()})
     * @param present whether the piece is there
     * @param why the reason, computed only when the piece is missing
     */
    static void require(boolean required, boolean present, Supplier<String> why) {
        if (present) {
            return;
        }
        if (required) {
            Assertions.fail(why.get() + " (" + REQUIRE_DOCKER + "=1: CI prepared Docker, so the container tests "
                    + "must run)");
        }
        Assumptions.abort(why.get());
    }

    /**
     * The repository root: the tests run in integration-tests/.
     *
     * @return the absolute path of the repository
     */
    static Path repository() {
        return Path.of("").toAbsolutePath().getParent();
    }

    /**
     * Requires a Docker engine that Testcontainers can use, the base image and {@code cli/target/livemig.jar}.
     *
     * @return the jar
     */
    static Path requireDockerBaseImageAndJar() {
        boolean required = required();
        String docker = dockerUnavailableReason();
        require(required, docker == null, () -> "Docker is not available: " + docker);
        boolean baseImage;
        try {
            DockerClientFactory.instance().client().inspectImageCmd(BASE_IMAGE).exec();
            baseImage = true;
        } catch (NotFoundException e) {
            baseImage = false;
        }
        require(required, baseImage, () -> "the base image " + BASE_IMAGE + " is missing: run docker/ci-setup.sh "
                + "--base-only (or docker/build-base.sh) first");
        Path jar = repository().resolve("cli/target/livemig.jar");
        require(required, Files.isRegularFile(jar), () -> "cli/target/livemig.jar is not built");
        return jar;
    }

    /**
     * Why Testcontainers cannot reach a Docker engine, or null when it can. Testcontainers' own
     * {@code isDockerAvailable()} answers only true or false; the exception it swallows is the reason.
     *
     * @return null, or the exception chain's messages and the socket Testcontainers looks at
     */
    static synchronized String dockerUnavailableReason() {
        if (dockerFailure != null) {
            return dockerFailure;
        }
        try {
            DockerClientFactory.instance().client();
            return null;
        } catch (RuntimeException e) {
            String host = System.getenv("DOCKER_HOST");
            // Ryuk is the usual culprit on a host without a registry: its image pull retries for about 100 s, fails,
            // and the failure makes Testcontainers report the engine as unavailable.
            String ryuk = "true".equals(System.getenv("TESTCONTAINERS_RYUK_DISABLED")) ? "" : "; Ryuk is on "
                    + "(TESTCONTAINERS_RYUK_DISABLED is not true): its image cannot be pulled without a registry";
            dockerFailure = messages(e) + " [DOCKER_HOST=" + (host == null ? "unset" : host) + ", /var/run/docker.sock "
                    + (Files.exists(Path.of("/var/run/docker.sock")) ? "exists" : "absent") + ryuk
                    + "; Testcontainers' log above names each client strategy it tried]";
            return dockerFailure;
        }
    }

    /**
     * The messages of an exception and its causes, outermost first, each once.
     *
     * @param e an exception
     * @return "message: cause's message: ..." with the class name where a message is missing
     */
    static String messages(Throwable e) {
        Set<String> parts = new LinkedHashSet<>();
        for (Throwable t = e; t != null && parts.size() < 8; t = t.getCause()) {
            parts.add(t.getMessage() == null || t.getMessage().isBlank() ? t.getClass().getName() : t.getMessage());
        }
        return String.join(": ", parts);
    }

    /**
     * The Compose command line of this host: {@code docker compose} (v2) when the docker client has the plugin,
     * else {@code docker-compose} (v1, Debian's package), else none.
     *
     * @return the command's words, or an empty list when neither answers {@code version}
     */
    static List<String> composeCommand() {
        for (List<String> candidate : List.of(List.of("docker", "compose"), List.of("docker-compose"))) {
            List<String> version = new ArrayList<>(candidate);
            version.add("version");
            try {
                Process process = new ProcessBuilder(version).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                if (process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS) && process.exitValue() == 0) {
                    return candidate;
                }
                process.destroyForcibly();
            } catch (java.io.IOException e) {
                // Not installed: try the next one.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return List.of();
            }
        }
        return List.of();
    }
}
