package io.livemig.transport.rdma.verbs.disni;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.livemig.transport.rdma.verbs.CmEventChannel;
import io.livemig.transport.rdma.verbs.CmId;
import io.livemig.transport.rdma.verbs.DeviceContext;
import io.livemig.transport.rdma.verbs.Verbs;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.VerbsProvider;
import io.livemig.transport.rdma.verbs.conformance.KnownDeviation;
import io.livemig.transport.rdma.verbs.conformance.ProviderFixture;
import io.livemig.transport.rdma.verbs.conformance.ProviderLimit;
import io.livemig.transport.rdma.verbs.rdmacore.RdmaCoreFixtures;

import java.net.InetSocketAddress;
import java.util.Set;

/**
 * Gate and addresses for the disni provider's tests. They run where libdisni, rdma-core and an RDMA device exist
 * (the Soft-RoCE lab, {@code scripts/rxe-lab.sh --disni}) and skip elsewhere with the provider's own reason, e.g.
 * "libdisni not found on java.library.path (...)".
 *
 * <p>Addresses: the device's IPv4 address as the provider finds it ({@value DisniVerbsProvider#ADDRESS_PROPERTY},
 * else the first IPv4 address of the device's network interface). Known deviations: the device's, as for the verbs
 * provider (rdma_rxe's three). Limits: DiSNI's ({@link #LIMITS}).
 */
public final class DisniFixtures {

    /** The name prefix of every thread the provider starts (one per open device). */
    public static final String THREAD_PREFIX = DisniDevice.THREAD_PREFIX;

    /** DiSNI 2.1's gaps, documented in docs/disni-provider.md. */
    public static final Set<ProviderLimit> LIMITS = Set.of(ProviderLimit.NO_INCOMING_PRIVATE_DATA,
            ProviderLimit.NO_CM_EVENT_STATUS, ProviderLimit.IPV4_ONLY);

    /** The conformance suite's view of the disni provider. */
    public static final ProviderFixture FIXTURE = new ProviderFixture() {
        @Override
        public void assumeAvailable() {
            DisniFixtures.assumeAvailable();
        }

        @Override
        public DeviceContext openDevice() throws VerbsException {
            return open();
        }

        @Override
        public InetSocketAddress listenAddress() {
            return DisniFixtures.listenAddress();
        }

        @Override
        public InetSocketAddress ipv6ListenAddress() {
            return new InetSocketAddress("::1", 0);
        }

        @Override
        public InetSocketAddress addressNobodyListensOn() throws VerbsException {
            return DisniFixtures.addressNobodyListensOn();
        }

        @Override
        public Set<KnownDeviation> knownDeviations(DeviceContext device) {
            return RdmaCoreFixtures.FIXTURE.knownDeviations(device);
        }

        @Override
        public Set<ProviderLimit> limits() {
            return LIMITS;
        }
    };

    private DisniFixtures() {
    }

    /** Skips the calling test unless the provider is available, reporting the gate's reason. */
    public static void assumeAvailable() {
        VerbsProvider provider = new DisniVerbsProvider();
        Throwable cause = provider.unavailabilityCause();
        assumeTrue(cause == null, String.valueOf(cause == null ? null : cause.getMessage()));
    }

    /**
     * Opens the device the tests run on.
     *
     * @return the device
     * @throws VerbsException when it cannot be opened
     */
    public static DeviceContext open() throws VerbsException {
        return Verbs.provider(DisniVerbsProvider.NAME).open();
    }

    /**
     * The device's IPv4 address, port 0.
     *
     * @return the address
     */
    public static InetSocketAddress listenAddress() {
        try {
            return new InetSocketAddress(DisniDeviceAddress.find(System.getProperty(
                    DisniVerbsProvider.DEVICE_PROPERTY), System.getProperty(DisniVerbsProvider.ADDRESS_PROPERTY))
                    .address(), 0);
        } catch (VerbsException e) {
            throw new IllegalStateException(e.getMessage(), e);
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
}
