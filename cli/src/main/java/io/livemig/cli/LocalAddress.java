package io.livemig.cli;

import io.livemig.transport.rdma.verbs.rdmacore.RdmaCoreVerbsProvider;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The address both ends of a one-process migration ({@code demo}, {@code bench}) listen and connect on.
 *
 * <p>The soft provider is TCP and takes the loopback address. A real RDMA device cannot: rdma_cm resolves a route
 * to {@code 127.0.0.1} through the loopback interface, which no RDMA device is bound to, and fails with
 * {@code rdma_resolve_route: ENODEV}. Its ends need an address of the network interface the device is bound to,
 * which the kernel names in {@code /sys/class/infiniband/<dev>/ports/<port>/gid_attrs/ndevs/0} for RoCE devices
 * (rdma_rxe included).
 */
final class LocalAddress {

    /** Where the kernel lists the RDMA devices. */
    static final Path SYSFS_DEVICES = Path.of("/sys/class/infiniband");

    private static final String LOOPBACK = "127.0.0.1";

    private LocalAddress() {
    }

    /**
     * The address to use: {@code --address} when given, the loopback address for the soft provider, otherwise an
     * IPv4 address of the network interface of the RDMA device (the one {@value RdmaCoreVerbsProvider#DEVICE_PROPERTY}
     * names, else the first that has one).
     *
     * @param provider the provider's name
     * @param address {@code --address}, or null
     * @return the host to listen and connect on
     * @throws CommandFailure when no RDMA device has an address
     */
    static String choose(String provider, String address) {
        if (address != null) {
            return address;
        }
        if (provider.equals("soft")) {
            return LOOPBACK;
        }
        return ofRdmaDevice(SYSFS_DEVICES, System.getProperty(RdmaCoreVerbsProvider.DEVICE_PROPERTY))
                .getHostAddress();
    }

    /**
     * The first IPv4 address of the network interface an RDMA device is bound to, devices in name order.
     *
     * @param devices a directory laid out like {@code /sys/class/infiniband}
     * @param wanted the only device to consider, or null for any
     * @return the address
     * @throws CommandFailure naming what is missing: the devices, the wanted one, or each device's interface or
     *     address
     */
    static InetAddress ofRdmaDevice(Path devices, String wanted) {
        List<Path> candidates;
        try (Stream<Path> listed = Files.list(devices)) {
            candidates = listed.filter(d -> wanted == null || d.getFileName().toString().equals(wanted))
                    .sorted()
                    .toList();
        } catch (NoSuchFileException e) {
            throw new CommandFailure("no RDMA device: " + devices + " does not exist; give --address HOST");
        } catch (IOException e) {
            throw new CommandFailure("no RDMA device: cannot list " + devices + " (" + e.getMessage()
                    + "); give --address HOST");
        }
        if (candidates.isEmpty()) {
            throw new CommandFailure(wanted == null
                    ? "no RDMA device: " + devices + " is empty; give --address HOST"
                    : "no RDMA device '" + wanted + "' (" + RdmaCoreVerbsProvider.DEVICE_PROPERTY + ") in " + devices);
        }
        List<String> why = new ArrayList<>();
        for (Path device : candidates) {
            String name = device.getFileName().toString();
            List<String> netdevs = netdevs(device);
            if (netdevs.isEmpty()) {
                why.add(name + " is bound to no network interface");
            }
            for (String netdev : netdevs) {
                Optional<InetAddress> address = ipv4(netdev);
                if (address.isPresent()) {
                    return address.get();
                }
                why.add(name + " is bound to " + netdev + ", which "
                        + (exists(netdev) ? "has no IPv4 address" : "does not exist"));
            }
        }
        throw new CommandFailure("no RDMA device with an IPv4 address (" + String.join("; ", why)
                + "); give --address HOST");
    }

    /** The network interfaces of the device's ports, in port order; none for InfiniBand ports (no RoCE). */
    private static List<String> netdevs(Path device) {
        List<String> names = new ArrayList<>();
        try (Stream<Path> ports = Files.list(device.resolve("ports"))) {
            for (Path port : ports.sorted().toList()) {
                Path ndev = port.resolve("gid_attrs/ndevs/0");
                if (Files.isReadable(ndev)) {
                    String name = Files.readString(ndev).trim();
                    if (!name.isEmpty() && !names.contains(name)) {
                        names.add(name);
                    }
                }
            }
        } catch (IOException e) {
            // A device without ports/ (or one that went away): no interface, said in the failure.
        }
        return names;
    }

    private static Optional<InetAddress> ipv4(String netdev) {
        try {
            NetworkInterface nif = NetworkInterface.getByName(netdev);
            return nif == null ? Optional.empty()
                    : nif.inetAddresses().filter(Inet4Address.class::isInstance).findFirst();
        } catch (SocketException e) {
            return Optional.empty();
        }
    }

    private static boolean exists(String netdev) {
        try {
            return NetworkInterface.getByName(netdev) != null;
        } catch (SocketException e) {
            return false;
        }
    }
}
