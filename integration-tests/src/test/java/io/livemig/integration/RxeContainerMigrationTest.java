package io.livemig.integration;

import com.github.dockerjava.api.model.Ulimit;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.condition.EnabledIf;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.GenericContainer;

/**
 * The same suite over Soft-RoCE: each container is privileged, makes an rxe link on its own {@code eth0}
 * (docker/rxe-entrypoint.sh) and migrates with {@code --provider verbs}, so the pages cross the Docker
 * network as RoCEv2 packets (UDP 4791) through the kernel's RDMA stack. Runs only where the Docker host has
 * rdma_rxe; the build machines do not (their kernel lacks the module), so there it reports the reason and
 * skips.
 */
@EnabledIf(value = "hostHasRdmaRxe",
        disabledReason = "the Docker host has no rdma_rxe: /sys/module/rdma_rxe is absent and no rdma_rxe module is "
                + "under /lib/modules/<release> (on an rxe-enabled host: modprobe rdma_rxe)")
class RxeContainerMigrationTest extends ContainerMigrationTest {

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

    @Override
    String provider() {
        return "verbs";
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
}
