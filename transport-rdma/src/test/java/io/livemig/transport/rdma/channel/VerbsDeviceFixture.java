package io.livemig.transport.rdma.channel;

import io.livemig.transport.rdma.verbs.CmEventChannel;
import io.livemig.transport.rdma.verbs.DeviceContext;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.rdmacore.RdmaCoreFixtures;
import java.net.InetSocketAddress;

/**
 * The verbs provider (rdma-core) on the RDMA device its own tests use: Soft-RoCE in the lab and in
 * {@code scripts/rxe-test.sh}, any RDMA NIC elsewhere. Without one every test skips with the provider's reason.
 */
final class VerbsDeviceFixture implements ChannelFixture {

    private static boolean warmedUp;

    /** Skips the test unless the provider can run here (its gate is probed once); the first time, warms it up. */
    @Override
    public void assumeAvailable() {
        synchronized (VerbsDeviceFixture.class) {
            RdmaCoreFixtures.assumeAvailable();
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
        try (DeviceContext device = RdmaCoreFixtures.open(); CmEventChannel events = device.createEventChannel()) {
            events.createId().listen(RdmaCoreFixtures.listenAddress(), 1);
        } catch (VerbsException e) {
            throw new IllegalStateException("the verbs provider is available but cannot listen", e);
        }
    }

    @Override
    public RdmaDeviceFactory devices() {
        return RdmaCoreFixtures::open;
    }

    @Override
    public InetSocketAddress listenAddress() {
        return RdmaCoreFixtures.listenAddress();
    }

    @Override
    public InetSocketAddress addressNobodyListensOn() throws VerbsException {
        return RdmaCoreFixtures.addressNobodyListensOn();
    }
}
