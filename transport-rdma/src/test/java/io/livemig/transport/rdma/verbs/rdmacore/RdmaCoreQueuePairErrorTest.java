package io.livemig.transport.rdma.verbs.rdmacore;

import io.livemig.transport.rdma.verbs.DeviceContext;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.conformance.QueuePairErrorConformance;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.BeforeEach;

/** The QueuePairError conformance suite on the verbs provider (a real RDMA device); skipped without one. */
class RdmaCoreQueuePairErrorTest extends QueuePairErrorConformance {

    // Per test rather than per class, so every skipped test reports the gate's reason.
    @BeforeEach
    void requireDevice() {
        RdmaCoreFixtures.assumeAvailable();
    }

    @Override
    protected DeviceContext openDevice() throws VerbsException {
        return RdmaCoreFixtures.open();
    }

    @Override
    protected InetSocketAddress listenAddress() {
        return RdmaCoreFixtures.listenAddress();
    }

    @Override
    protected InetSocketAddress ipv6ListenAddress() {
        return RdmaCoreFixtures.ipv6ListenAddress();
    }

    @Override
    protected InetSocketAddress addressNobodyListensOn() throws VerbsException {
        return RdmaCoreFixtures.addressNobodyListensOn();
    }
}
