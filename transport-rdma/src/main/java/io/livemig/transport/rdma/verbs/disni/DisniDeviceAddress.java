package io.livemig.transport.rdma.verbs.disni;

import io.livemig.transport.rdma.verbs.VerbsException;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;

/**
 * The device to open and the IPv4 address that reaches it. DiSNI has no {@code ibv_get_device_list}: its only way
 * to a device context is an rdma_cm identifier bound to an address of the device's network interface, so the
 * provider opens a device by address.
 *
 * @param device the device name ({@code rxe0}, {@code mlx5_0})
 * @param address an IPv4 address of its network interface
 */
record DisniDeviceAddress(String device, InetAddress address) {

    private static final Path DEVICES = Path.of("/sys/class/infiniband");

    /**
     * Finds the device and its address.
     *
     * @param wantedDevice the configured device, or {@code null} for the first one with an IPv4 address
     * @param wantedAddress the configured address, or {@code null} for the device's first IPv4 address
     * @return the device and address
     * @throws VerbsException when no device matches or it has no IPv4 address
     */
    static DisniDeviceAddress find(String wantedDevice, String wantedAddress) throws VerbsException {
        List<String> devices = devices();
        if (wantedAddress != null && !wantedAddress.isBlank()) {
            InetAddress address;
            try {
                address = InetAddress.getByName(wantedAddress.trim());
            } catch (IOException e) {
                throw new VerbsException("cannot resolve " + DisniVerbsProvider.ADDRESS_PROPERTY + "="
                        + wantedAddress + ": " + e.getMessage(), e);
            }
            String name = wantedDevice;
            for (String device : devices) {
                if (name == null && address.equals(ipv4Of(device))) {
                    name = device;
                }
            }
            return new DisniDeviceAddress(name == null ? "disni" : name, address);
        }
        for (String device : devices) {
            if (wantedDevice != null && !wantedDevice.equals(device)) {
                continue;
            }
            InetAddress address = ipv4Of(device);
            if (address != null) {
                return new DisniDeviceAddress(device, address);
            }
        }
        throw new VerbsException(wantedDevice == null
                ? "no RDMA device with an IPv4 address among " + devices + " (DiSNI opens a device by address; set "
                        + DisniVerbsProvider.ADDRESS_PROPERTY + ")"
                : "no RDMA device named '" + wantedDevice + "' with an IPv4 address (" + DisniVerbsProvider
                        .DEVICE_PROPERTY + "); devices: " + devices);
    }

    private static List<String> devices() {
        if (!Files.isDirectory(DEVICES)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(DEVICES)) {
            return entries.map(path -> path.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** The first IPv4 address of the network interface under port 1's first GID ({@code gid_attrs/ndevs/0}). */
    private static InetAddress ipv4Of(String device) {
        try {
            Path ndev = DEVICES.resolve(device).resolve("ports/1/gid_attrs/ndevs/0");
            if (!Files.isReadable(ndev)) {
                return null;
            }
            NetworkInterface netdev = NetworkInterface.getByName(Files.readString(ndev).trim());
            if (netdev == null) {
                return null;
            }
            List<InetAddress> addresses = new ArrayList<>(Collections.list(netdev.getInetAddresses()));
            for (InetAddress address : addresses) {
                if (address instanceof Inet4Address) {
                    return address;
                }
            }
            return null;
        } catch (IOException e) {
            return null;
        }
    }
}
