package io.livemig.transport.rdma.verbs.rdmacore;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.livemig.transport.rdma.verbs.CmEventChannel;
import io.livemig.transport.rdma.verbs.CmId;
import io.livemig.transport.rdma.verbs.DeviceContext;
import io.livemig.transport.rdma.verbs.Verbs;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.VerbsProvider;
import io.livemig.transport.rdma.verbs.conformance.ProviderFixture;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;

/**
 * Gate and addresses for the verbs provider's tests. The tests run where rdma-core and an RDMA device exist (the
 * Soft-RoCE lab, {@code scripts/rxe-test.sh}) and skip elsewhere with the provider's own reason.
 *
 * <p>Addresses: system property {@value #ADDRESS_PROPERTY}, else environment variable {@code LAB_IP} (set by the
 * rxe lab), else the first IPv4 address of the network device the RDMA device is bound to (from
 * {@code /sys/class/infiniband/<dev>/ports/1/gid_attrs/ndevs/0}).
 */
final class RdmaCoreFixtures {

    /** System property with the IP address of the RDMA device's network interface. */
    static final String ADDRESS_PROPERTY = "livemig.verbs.testAddress";

    /** The conformance suite's view of the verbs provider: gated, on the RDMA device's addresses. */
    static final ProviderFixture FIXTURE = new ProviderFixture() {
        @Override
        public void assumeAvailable() {
            RdmaCoreFixtures.assumeAvailable();
        }

        @Override
        public DeviceContext openDevice() throws VerbsException {
            return open();
        }

        @Override
        public InetSocketAddress listenAddress() {
            return RdmaCoreFixtures.listenAddress();
        }

        @Override
        public InetSocketAddress ipv6ListenAddress() {
            return RdmaCoreFixtures.ipv6ListenAddress();
        }

        @Override
        public InetSocketAddress addressNobodyListensOn() throws VerbsException {
            return RdmaCoreFixtures.addressNobodyListensOn();
        }
    };

    private RdmaCoreFixtures() {
    }

    /** Skips the calling test class unless the provider is available, reporting the gate's reason. */
    static void assumeAvailable() {
        VerbsProvider provider = new RdmaCoreVerbsProvider();
        assumeTrue(provider.isAvailable(), String.valueOf(provider.unavailabilityCause() == null ? null
                : provider.unavailabilityCause().getMessage()));
    }

    static DeviceContext open() throws VerbsException {
        return Verbs.provider(RdmaCoreVerbsProvider.NAME).open();
    }

    static InetSocketAddress listenAddress() {
        String configured = System.getProperty(ADDRESS_PROPERTY, System.getenv("LAB_IP"));
        try {
            if (configured != null && !configured.isBlank()) {
                return new InetSocketAddress(InetAddress.getByName(configured.trim()), 0);
            }
            NetworkInterface netdev = rdmaNetdev();
            if (netdev != null) {
                for (InetAddress address : Collections.list(netdev.getInetAddresses())) {
                    if (address instanceof Inet4Address) {
                        return new InetSocketAddress(address, 0);
                    }
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot find the RDMA device's address", e);
        }
        throw new IllegalStateException("no IPv4 address for the RDMA device: set -D" + ADDRESS_PROPERTY);
    }

    /** An IPv6 address of the RDMA netdev (link-local, with its scope), or {@code ::1} when it has none. */
    static InetSocketAddress ipv6ListenAddress() {
        try {
            NetworkInterface netdev = rdmaNetdev();
            if (netdev != null) {
                for (InetAddress address : Collections.list(netdev.getInetAddresses())) {
                    if (address instanceof Inet6Address) {
                        return new InetSocketAddress(address, 0);
                    }
                }
            }
            return new InetSocketAddress("::1", 0);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A port on the device's address that was bound by rdma_cm a moment ago and is free again. */
    static InetSocketAddress addressNobodyListensOn() throws VerbsException {
        try (DeviceContext device = open(); CmEventChannel events = device.createEventChannel()) {
            CmId id = events.createId();
            id.listen(listenAddress(), 1);
            InetSocketAddress bound = id.localAddress();
            id.close();
            return bound;
        }
    }

    private static NetworkInterface rdmaNetdev() throws IOException {
        String device = System.getProperty(RdmaCoreVerbsProvider.DEVICE_PROPERTY);
        Path root = Path.of("/sys/class/infiniband");
        if (!Files.isDirectory(root)) {
            return null;
        }
        try (var devices = Files.list(root)) {
            for (Path dir : devices.sorted().toList()) {
                if (device != null && !dir.getFileName().toString().equals(device)) {
                    continue;
                }
                Path ndev = dir.resolve("ports/1/gid_attrs/ndevs/0");
                if (Files.isReadable(ndev)) {
                    String name = Files.readString(ndev).trim();
                    try {
                        NetworkInterface netdev = NetworkInterface.getByName(name);
                        if (netdev != null) {
                            return netdev;
                        }
                    } catch (SocketException ignored) {
                        // try the next device
                    }
                }
            }
        } catch (IOException e) {
            return null;
        }
        return null;
    }
}
