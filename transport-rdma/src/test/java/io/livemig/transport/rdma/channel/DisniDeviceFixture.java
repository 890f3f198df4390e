package io.livemig.transport.rdma.channel;

import io.livemig.transport.rdma.verbs.CmEventChannel;
import io.livemig.transport.rdma.verbs.DeviceContext;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.disni.DisniFixtures;
import io.livemig.transport.rdma.verbs.conformance.ProviderLimit;
import java.net.InetSocketAddress;
import java.util.Set;

/**
 * The disni provider (DiSNI) on the RDMA device its own tests use: Soft-RoCE in the lab and in
 * {@code scripts/rxe-test.sh}, any RDMA NIC elsewhere. Without one every test skips with the provider's reason.
 */
final class DisniDeviceFixture implements ChannelFixture {

    private static boolean warmedUp;

    /** Skips the test unless the provider can run here (its gate is probed once); the first time, warms it up. */
    @Override
    public void assumeAvailable() {
        synchronized (DisniDeviceFixture.class) {
            DisniFixtures.assumeAvailable();
            if (!warmedUp) {
                warmUp();
                warmedUp = true;
            }
        }
    }

    /**
     * Opens a device and an rdma_cm identifier once, so that what librdmacm and the JDK open lazily, for the
     * process's lifetime, exists before the first test counts descriptors and is not reported as a leak.
     */
    private static void warmUp() {
        try (DeviceContext device = DisniFixtures.open(); CmEventChannel events = device.createEventChannel()) {
            events.createId().listen(DisniFixtures.listenAddress(), 1);
        } catch (VerbsException e) {
            throw new IllegalStateException("the disni provider is available but cannot listen", e);
        }
    }

    @Override
    public Set<ProviderLimit> limits() {
        return DisniFixtures.LIMITS;
    }

    @Override
    public RdmaDeviceFactory devices() {
        return DisniFixtures::open;
    }

    @Override
    public InetSocketAddress listenAddress() {
        return DisniFixtures.listenAddress();
    }

    @Override
    public InetSocketAddress addressNobodyListensOn() throws VerbsException {
        return DisniFixtures.addressNobodyListensOn();
    }
}
