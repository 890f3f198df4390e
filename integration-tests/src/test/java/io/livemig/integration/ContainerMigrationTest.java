package io.livemig.integration;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Ulimit;
import io.livemig.testing.QmpClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.Container;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.ImageFromDockerfile;

/**
 * The livemig image across containers: a destination and a source container on a user-defined network
 * (separate network namespaces and addresses), driven through each container's QMP socket as an operator's
 * script would drive QEMU. Memory equality is checked with digests of the file-backed RAM blocks
 * ({@code --ram-file}) on both sides, and the destination's {@code x-verify} verdict.
 *
 * <p>Every test runs once per {@link Provider}: {@code [soft]}, the soft provider's TCP fabric between the
 * containers, and {@code [rxe]}, the verbs provider over Soft-RoCE. A test skips, saying why, where Docker, the base
 * image, the livemig jar or (for {@code [rxe]}) the host's rdma_rxe is missing; checked before each test, so that
 * every test of every provider is counted. Where CI prepared Docker ({@link ContainerHost#REQUIRE_DOCKER}) a missing
 * Docker, base image or jar fails the test instead: only the host's missing rdma_rxe may skip there.
 */
@ParameterizedClass(name = "[{0}]")
@EnumSource(ContainerMigrationTest.Provider.class)
class ContainerMigrationTest {

    /** How both containers move the pages. */
    enum Provider {
        /** The soft provider: its TCP fabric between the containers' network namespaces. */
        SOFT("soft"),
        /**
         * The verbs provider over Soft-RoCE: each container is privileged, makes an rxe link on its own
         * {@code eth0} (docker/rxe-entrypoint.sh) and migrates with {@code --provider verbs}, so the pages cross
         * the Docker network as RoCEv2 packets (UDP 4791) through the kernel's RDMA stack. Runs only where the
         * Docker host has rdma_rxe; the build machines do not (their kernel lacks the module), so there it
         * reports the reason and skips.
         */
        RXE("verbs") {
            @Override
            void assumeAvailable() {
                Assumptions.assumeTrue(hostHasRdmaRxe(), "the Docker host has no rdma_rxe: /sys/module/rdma_rxe is "
                        + "absent and no rdma_rxe module is under /lib/modules/<release> (on an rxe-enabled host: "
                        + "modprobe rdma_rxe)");
            }

            @Override
            void prepare(GenericContainer<?> container) {
                // As docker/compose.rxe.yaml: privileged for `rdma link add`, memlock unlimited because registration
                // pins the RAM, and the host's modules so the entrypoint can load rdma_rxe, ib_uverbs and rdma_ucm.
                container.withPrivilegedMode(true)
                        .withFileSystemBind("/lib/modules", "/lib/modules", BindMode.READ_ONLY)
                        .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig()
                                .withUlimits(List.of(new Ulimit("memlock", -1L, -1L))));
            }

            @Override
            List<String> cutRule() {
                // RoCEv2 carries the pages and the connection manager's messages over UDP port 4791.
                return List.of("OUTPUT", "-p", "udp", "--dport", "4791", "-j", "DROP");
            }
        };

        /** The {@code --provider} both ends get. */
        final String cliName;

        Provider(String cliName) {
            this.cliName = cliName;
        }

        /** Skips the test, saying why, where this host cannot run the provider: nothing for the soft provider. */
        void assumeAvailable() {
        }

        /**
         * What a container needs beyond the image for the provider: nothing for the soft provider.
         *
         * @param container a destination or source before it starts
         */
        void prepare(GenericContainer<?> container) {
        }

        /**
         * The iptables rule (after {@code iptables -A}) that cuts the migration's traffic inside the source.
         *
         * @return for the soft provider, the TCP connection to the destination's migration port
         */
        List<String> cutRule() {
            return List.of("OUTPUT", "-p", "tcp", "--dport", "29200", "-j", "DROP");
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * Whether this host's kernel has Soft-RoCE loaded or loadable.
     *
     * @return true when rdma_rxe is loaded or its module file exists
     */
    static boolean hostHasRdmaRxe() {
        if (Files.isDirectory(Path.of("/sys/module/rdma_rxe"))) {
            return true;
        }
        Path modules = Path.of("/lib/modules", System.getProperty("os.version"));
        if (!Files.isDirectory(modules)) {
            return false;
        }
        try (Stream<Path> files = Files.walk(modules)) {
            return files.anyMatch(file -> file.getFileName().toString().startsWith("rdma_rxe.ko"));
        } catch (IOException e) {
            return false;
        }
    }

    private static final Duration TIMEOUT = Duration.ofSeconds(120);
    private static final int QMP_PORT = 4444;
    /** Where each container keeps its file-backed RAM block: a directory of the host, bind-mounted. */
    private static final String RAM_DIR = "/var/lib/livemig";
    private static final String RAM_FILE = RAM_DIR + "/pc.ram";

    private static ImageFromDockerfile image;

    @Parameter
    Provider provider;
    private Network network;
    private final List<GenericContainer<?>> started = new java.util.ArrayList<>();
    private final java.util.Map<GenericContainer<?>, Path> ramDirs = new java.util.HashMap<>();

    /**
     * Skips the test (fails it where CI prepared Docker: {@link ContainerHost}) unless Docker, the base image and
     * the jar are there; the first time, describes the image.
     */
    private static synchronized void requireImage() {
        Path jar = ContainerHost.requireDockerBaseImageAndJar();
        if (image == null) {
            // The context holds only what the Dockerfile copies (as .dockerignore says); fixed tag, so that reruns
            // reuse it.
            image = new ImageFromDockerfile("livemig:it", false)
                    .withFileFromPath("docker", ContainerHost.repository().resolve("docker"))
                    .withFileFromPath("cli/target/livemig.jar", jar)
                    .withDockerfilePath("docker/Dockerfile")
                    .withBuildArg("BASE_IMAGE", ContainerHost.BASE_IMAGE);
        }
    }

    // Per test rather than per class (a skipped @BeforeAll would hide a parameterized class's tests from the
    // counts), so that every skipped test reports the reason.
    @BeforeEach
    void createNetwork() {
        provider.assumeAvailable();
        requireImage();
        network = Network.newNetwork();
    }

    private GenericContainer<?> withRamDir(GenericContainer<?> container) throws IOException {
        // On tmpfs when the host has one: a shared file mapping on a disk-backed directory is written back to the
        // disk as the migration dirties it, and the writeback throttle then caps the migration at the disk's speed.
        Path shm = Path.of("/dev/shm");
        Path dir = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "livemig-it-ram")
                : Files.createTempDirectory("livemig-it-ram");
        ramDirs.put(container, dir);
        return container.withFileSystemBind(dir.toString(), RAM_DIR);
    }

    @AfterEach
    void stopAll() throws IOException {
        for (GenericContainer<?> container : started) {
            System.out.println("---- log of " + container.getNetworkAliases() + "\n" + container.getLogs());
            container.stop();
        }
        if (network != null) {
            network.close();
        }
        for (Path dir : ramDirs.values()) {
            Files.deleteIfExists(dir.resolve("pc.ram"));
            Files.deleteIfExists(dir);
        }
    }

    private GenericContainer<?> destination(String alias) throws IOException {
        // It exits once the migration completed (0) or failed, printing the final 'info migrate'.
        GenericContainer<?> container = withRamDir(new GenericContainer<>(image).withNetwork(network)
                .withNetworkAliases(alias)
                .withCommand("destination", "--incoming", "rdma:0.0.0.0:29200", "--provider", provider.cliName,
                        "--verify", "--qmp", "tcp:0.0.0.0:" + QMP_PORT, "--ram", "256M", "--ram-file",
                        "pc.ram=" + RAM_FILE, "--progress", "lines")
                // Ready once the migration port listens (the QMP socket opens before it).
                .withExposedPorts(QMP_PORT).waitingFor(Wait.forLogMessage(".*listening on rdma:.*\\n", 1)
                        .withStartupTimeout(TIMEOUT)));
        provider.prepare(container);
        container.start();
        started.add(container);
        return container;
    }

    private GenericContainer<?> source() throws IOException {
        GenericContainer<?> container = withRamDir(new GenericContainer<>(image).withNetwork(network)
                .withNetworkAliases("source")
                .withCommand("source", "--ram", "256M", "--ram-file", "pc.ram=" + RAM_FILE, "--fill", "random",
                        "--workload", "stress", "--vm-bytes", "128M", "--vm-keep", "--vm-rate", "32m",
                        "--provider", provider.cliName, "--timeout", "15", "--qmp", "tcp:0.0.0.0:" + QMP_PORT,
                        "--progress", "lines")
                .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig().withCapAdd(Capability.NET_ADMIN))
                .withExposedPorts(QMP_PORT).waitingFor(Wait.forListeningPort().withStartupTimeout(TIMEOUT)));
        provider.prepare(container);
        container.start();
        started.add(container);
        return container;
    }

    private static QmpClient qmp(GenericContainer<?> container) throws IOException {
        return QmpClient.connect(container.getHost(), container.getMappedPort(QMP_PORT), TIMEOUT);
    }

    private static String waitForEnd(QmpClient qmp) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        String status;
        do {
            status = qmp.migrationStatus();
            if (status.equals("completed") || status.equals("failed") || status.equals("cancelled")) {
                return status;
            }
            Thread.sleep(200);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("migration still " + status + " after " + TIMEOUT);
    }

    private static String waitForTransfer(QmpClient qmp) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            String answer = qmp.execute("{\"execute\": \"query-migrate\"}");
            String transferred = QmpClient.member(answer, "transferred");
            if ("active".equals(QmpClient.member(answer, "status")) && transferred != null
                    && Long.parseLong(transferred) > (8L << 20)) {
                return answer;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the migration did not get going within " + TIMEOUT);
    }

    /** SHA-256 of a container's RAM file, read on the host through the bind mount (also after it exited). */
    private String digest(GenericContainer<?> container) throws Exception {
        java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
        try (java.io.InputStream in = Files.newInputStream(ramDirs.get(container).resolve("pc.ram"))) {
            byte[] buffer = new byte[1 << 20];
            int n;
            while ((n = in.read(buffer)) > 0) {
                sha.update(buffer, 0, n);
            }
        }
        return java.util.HexFormat.of().formatHex(sha.digest());
    }

    private static void awaitExit(GenericContainer<?> container) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (container.isRunning() && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        assertThat(container.isRunning()).as("still running after " + TIMEOUT).isFalse();
    }

    private static long exitCode(GenericContainer<?> container) {
        return container.getDockerClient().inspectContainerCmd(container.getContainerId()).exec().getState()
                .getExitCodeLong();
    }

    private static void migrate(QmpClient source, String destinationAlias) throws IOException {
        assertThat(source.execute("{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"rdma:" + destinationAlias
                + ":29200\"}}")).isEqualTo("{\"return\": {}}");
    }

    @Test
    void aLiveMigrationAcrossContainersArrivesByteForByte() throws Exception {
        GenericContainer<?> destination = destination("destination");
        GenericContainer<?> source = source();
        try (QmpClient src = qmp(source); QmpClient dst = qmp(destination)) {
            assertThat(dst.migrationStatus()).isEqualTo("none");
            assertThat(src.execute("{\"execute\": \"migrate-set-capabilities\", \"arguments\": {\"capabilities\": "
                    + "[{\"capability\": \"x-verify\", \"state\": true}]}}")).isEqualTo("{\"return\": {}}");
            migrate(src, "destination");
            assertThat(waitForEnd(src)).isEqualTo("completed");
            awaitExit(destination);
            assertThat(exitCode(destination)).isZero();
            String info = src.execute("{\"execute\": \"query-migrate\"}");
            System.out.println("source query-migrate: " + info);
            assertThat(QmpClient.member(info, "downtime")).isNotNull();
            assertThat(Long.parseLong(QmpClient.member(info, "dirty-sync-count"))).isGreaterThanOrEqualTo(2);
        }
        // The source stays paused after a completed migration (QEMU's postmigrate): both files hold the memory
        // as it was at the pause.
        assertThat(digest(destination)).isEqualTo(digest(source));
        assertThat(destination.getLogs()).contains("verification passed");
    }

    @Test
    void aDestinationKilledMidMigrationFailsItAndTheSourceMigratesAgainElsewhere() throws Exception {
        GenericContainer<?> first = destination("first");
        GenericContainer<?> source = source();
        try (QmpClient src = qmp(source)) {
            src.execute("{\"execute\": \"migrate-set-capabilities\", \"arguments\": {\"capabilities\": "
                    + "[{\"capability\": \"x-verify\", \"state\": true}]}}");
            // 16 MiB/s: the 256 MiB bulk round takes long enough to kill the destination in the middle of it.
            src.execute("{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"max-bandwidth\": 16777216}}");
            migrate(src, "first");
            waitForTransfer(src);
            first.getDockerClient().killContainerCmd(first.getContainerId()).exec();
            assertThat(waitForEnd(src)).isEqualTo("failed");
            String failed = src.execute("{\"execute\": \"query-migrate\"}");
            System.out.println("after the kill: " + failed);
            assertThat(QmpClient.member(failed, "error-desc")).isNotBlank();
            // Still running and ready: a second migration to a new destination completes.
            GenericContainer<?> second = destination("second");
            src.execute("{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"max-bandwidth\": 0}}");
            migrate(src, "second");
            assertThat(waitForEnd(src)).isEqualTo("completed");
            awaitExit(second);
            assertThat(exitCode(second)).isZero();
            assertThat(digest(second)).isEqualTo(digest(source));
        }
    }

    @Test
    void aNetworkCutInsideTheSourceFailsTheMigrationAndTheSourceRunsOn() throws Exception {
        GenericContainer<?> destination = destination("destination");
        GenericContainer<?> source = source();
        try (QmpClient src = qmp(source)) {
            src.execute("{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"max-bandwidth\": 16777216}}");
            migrate(src, "destination");
            waitForTransfer(src);
            // Drop everything towards the destination's migration traffic, as a failed link would.
            List<String> command = new java.util.ArrayList<>(List.of("iptables", "-A"));
            command.addAll(provider.cutRule());
            Container.ExecResult cut = source.execInContainer(command.toArray(String[]::new));
            assertThat(cut.getExitCode()).as(cut.getStderr()).isZero();
            assertThat(waitForEnd(src)).isEqualTo("failed");
            System.out.println("after the cut: " + src.execute("{\"execute\": \"query-migrate\"}"));
            assertThat(source.isRunning()).isTrue();
            assertThat(src.execute("{\"execute\": \"query-migrate-parameters\"}")).contains("\"max-bandwidth\"");
        }
        assertThat(destination.isRunning()).isTrue();
    }
}
