package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.verbs.DeviceContext;
import io.livemig.transport.rdma.verbs.Verbs;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.conformance.ResourceLeakConformance;
import java.io.IOException;
import java.net.InetSocketAddress;

/** The ResourceLeak conformance suite on the soft provider's TCP fabric, found through the ServiceLoader. */
class TcpResourceLeakTest extends ResourceLeakConformance {

    @Override
    protected DeviceContext openDevice() throws VerbsException {
        return Verbs.provider("soft").open();
    }

    @Override
    protected InetSocketAddress listenAddress() {
        return SoftFixtures.loopback(0);
    }

    @Override
    protected InetSocketAddress addressNobodyListensOn() throws IOException {
        return SoftFixtures.freeTcpPort();
    }

    @Override
    protected String threadPrefix() {
        return "livemig-soft-";
    }
}
