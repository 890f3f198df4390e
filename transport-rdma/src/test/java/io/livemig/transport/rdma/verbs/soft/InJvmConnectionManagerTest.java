package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.verbs.DeviceContext;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.conformance.ConnectionManagerConformance;
import java.net.InetSocketAddress;

/** The ConnectionManager conformance suite on the soft provider's in-JVM fabric. */
class InJvmConnectionManagerTest extends ConnectionManagerConformance {

    private final InJvmFabric fabric = new InJvmFabric();

    @Override
    protected DeviceContext openDevice() throws VerbsException {
        return new SoftVerbsProvider().open(fabric);
    }

    @Override
    protected InetSocketAddress listenAddress() {
        return SoftFixtures.loopback(0);
    }

    @Override
    protected InetSocketAddress addressNobodyListensOn() {
        return SoftFixtures.loopback(1);
    }

    @Override
    protected void closeFixture() {
        fabric.close();
    }
}
