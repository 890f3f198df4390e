package io.livemig.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The address of a one-process migration, from a fake {@code /sys/class/infiniband}: devices bound to {@code lo}
 * (which every Linux host has, with 127.0.0.1) or to interfaces that do not exist.
 */
class LocalAddressTest {

    @TempDir
    Path sysfs;

    @Test
    void softTakesLoopbackAndAnAddressGivenWins() {
        assertThat(LocalAddress.choose("soft", null)).isEqualTo("127.0.0.1");
        assertThat(LocalAddress.choose("verbs", "10.77.0.1")).isEqualTo("10.77.0.1");
        assertThat(LocalAddress.choose("soft", "127.0.0.2")).isEqualTo("127.0.0.2");
    }

    @Test
    void takesTheIpv4AddressOfTheInterfaceTheDeviceIsBoundTo() throws IOException {
        bind("rxe0", 1, "lo");

        assertThat(LocalAddress.ofRdmaDevice(sysfs, null).getHostAddress()).isEqualTo("127.0.0.1");
    }

    @Test
    void skipsDevicesWithoutAnInterfaceOrAddress() throws IOException {
        Files.createDirectories(sysfs.resolve("mlx5_0/ports/1/gid_attrs"));   // InfiniBand: no ndevs
        bind("mlx5_1", 1, "lmnosuch0");
        bind("rxe0", 1, "lmnosuch1");
        bind("rxe0", 2, "lo");

        assertThat(LocalAddress.ofRdmaDevice(sysfs, null).getHostAddress()).isEqualTo("127.0.0.1");
    }

    @Test
    void considersOnlyTheDeviceAsked() throws IOException {
        bind("rxe0", 1, "lmnosuch0");
        bind("rxe1", 1, "lo");

        assertThat(LocalAddress.ofRdmaDevice(sysfs, "rxe1").getHostAddress()).isEqualTo("127.0.0.1");
        assertThatThrownBy(() -> LocalAddress.ofRdmaDevice(sysfs, "rxe0"))
                .isInstanceOf(CommandFailure.class)
                .hasMessage("no RDMA device with an IPv4 address (rxe0 is bound to lmnosuch0, which does not exist); "
                        + "give --address HOST");
        assertThatThrownBy(() -> LocalAddress.ofRdmaDevice(sysfs, "rxe9"))
                .isInstanceOf(CommandFailure.class)
                .hasMessage("no RDMA device 'rxe9' (livemig.verbs.device) in " + sysfs);
    }

    @Test
    void namesWhatEachDeviceLacks() throws IOException {
        Files.createDirectories(sysfs.resolve("mlx5_0/ports/1/gid_attrs"));
        bind("rxe0", 1, "lmnosuch0");

        assertThatThrownBy(() -> LocalAddress.ofRdmaDevice(sysfs, null))
                .isInstanceOf(CommandFailure.class)
                .hasMessage("no RDMA device with an IPv4 address (mlx5_0 is bound to no network interface; "
                        + "rxe0 is bound to lmnosuch0, which does not exist); give --address HOST");
    }

    @Test
    void saysWhenThereIsNoDeviceAtAll() {
        assertThatThrownBy(() -> LocalAddress.ofRdmaDevice(sysfs, null))
                .isInstanceOf(CommandFailure.class)
                .hasMessage("no RDMA device: " + sysfs + " is empty; give --address HOST");
        Path missing = sysfs.resolve("infiniband");
        assertThatThrownBy(() -> LocalAddress.ofRdmaDevice(missing, null))
                .isInstanceOf(CommandFailure.class)
                .hasMessage("no RDMA device: " + missing + " does not exist; give --address HOST");
    }

    /** Lays out {@code DEVICE/ports/PORT/gid_attrs/ndevs/0} as the kernel does for a RoCE port on NETDEV. */
    private void bind(String device, int port, String netdev) throws IOException {
        Path ndevs = Files.createDirectories(sysfs.resolve(device + "/ports/" + port + "/gid_attrs/ndevs"));
        Files.writeString(ndevs.resolve("0"), netdev + "\n");
    }
}
