package io.livemig.transport.rdma.verbs.rdmacore;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.livemig.transport.rdma.verbs.CmEventChannel;
import io.livemig.transport.rdma.verbs.CmId;
import io.livemig.transport.rdma.verbs.DeviceContext;
import io.livemig.transport.rdma.verbs.Verbs;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.VerbsProvider;
import io.livemig.transport.rdma.verbs.conformance.KnownDeviation;
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
import java.util.Set;

/**
 * Gate and addresses for the verbs provider's tests. The tests run where rdma-core and an RDMA device exist (the
 * Soft-RoCE lab, {@code scripts/rxe-test.sh}) and skip elsewhere with the provider's own reason.
 *
 * <p>Addresses: system property {@value #ADDRESS_PROPERTY}, else environment variable {@code LAB_IP} (set by the
 * rxe lab), else the first IPv4 address of the network device the RDMA device is bound to (from
 * {@code /sys/class/infiniband/<dev>/ports/1/gid_attrs/ndevs/0}).
 *
 * <p>Known deviations: the suite accepts {@link #RXE_DEVIATIONS} from devices of the kernel's Soft-RoCE driver,
 * rdma_rxe, and none from any other device. The driver is recognised by the node description it gives every device
 * it creates, {@value #RXE_NODE_DESCRIPTION}, whatever the device is called ({@code rxe0}, {@code lmrxe0_rxe}).
 */
public final class RdmaCoreFixtures {

    /** System property with the IP address of the RDMA device's network interface. */
    static final String ADDRESS_PROPERTY = "livemig.verbs.testAddress";

    /** What rdma_rxe writes into {@code /sys/class/infiniband/<dev>/node_desc} when it registers a device. */
    static final String RXE_NODE_DESCRIPTION = "rxe";

    /**
     * How rdma_rxe departs from the specification, seen on Linux 6.1 (Debian 12, 6.1.0-56-amd64, 6.1.192-2) and
     * documented in docs/verbs-provider.md.
     */
    static final Set<KnownDeviation> RXE_DEVIATIONS = Set.of(
            KnownDeviation.LOCAL_ERRORS_AS_LOC_QP_OP_ERR,
            KnownDeviation.RECEIVE_OVERFLOW_NAKED_AS_REM_OP_ERR,
            KnownDeviation.RECEIVES_POSTED_IN_ERROR_FLUSHED_ON_NEXT_MOVE_TO_ERROR);

    /** The name prefix of every thread the verbs provider starts (one per open device). */
    public static final String THREAD_PREFIX = DeviceThread.NAME_PREFIX;

    /** The conformance suite's view of the verbs provider: gated, on the RDMA device's addresses. */
    public static final ProviderFixture FIXTURE = new ProviderFixture() {
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

        @Override
        public Set<KnownDeviation> knownDeviations(DeviceContext device) {
            return isRxe(device.name()) ? RXE_DEVIATIONS : Set.of();
        }
    };

    private RdmaCoreFixtures() {
    }

    /** Skips the calling test unless the provider is available, reporting the gate's reason. */
    public static void assumeAvailable() {
        VerbsProvider provider = new RdmaCoreVerbsProvider();
        assumeTrue(provider.isAvailable(), String.valueOf(provider.unavailabilityCause() == null ? null
                : provider.unavailabilityCause().getMessage()));
    }

    /**
     * Opens the device the tests run on.
     *
     * @return the device
     * @throws VerbsException when it cannot be opened
     */
    public static DeviceContext open() throws VerbsException {
        return Verbs.provider(RdmaCoreVerbsProvider.NAME).open();
    }

    /**
     * An address of the RDMA device's network interface, port 0.
     *
     * @return the address
     */
    public static InetSocketAddress listenAddress() {
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

    /**
     * A port on the device's address that was bound by rdma_cm a moment ago and is free again.
     *
     * @return the address
     * @throws VerbsException when the device cannot be opened
     */
    public static InetSocketAddress addressNobodyListensOn() throws VerbsException {
        try (DeviceContext device = open(); CmEventChannel events = device.createEventChannel()) {
            CmId id = events.createId();
            id.listen(listenAddress(), 1);
            InetSocketAddress bound = id.localAddress();
            id.close();
            return bound;
        }
    }

    /** Whether the device was created by rdma_rxe, told by its node description. */
    static boolean isRxe(String device) {
        try {
            Path nodeDescription = Path.of("/sys/class/infiniband", device, "node_desc");
            return Files.isReadable(nodeDescription)
                    && Files.readString(nodeDescription).trim().equals(RXE_NODE_DESCRIPTION);
        } catch (IOException e) {
            return false;
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
