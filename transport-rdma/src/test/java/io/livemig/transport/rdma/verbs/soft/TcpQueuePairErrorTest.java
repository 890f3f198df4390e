package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.verbs.DeviceContext;
import io.livemig.transport.rdma.verbs.Verbs;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.conformance.QueuePairErrorConformance;
import java.io.IOException;
import java.net.InetSocketAddress;

/** The QueuePairError conformance suite on the soft provider's TCP fabric, found through the ServiceLoader. */
class TcpQueuePairErrorTest extends QueuePairErrorConformance {

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
}
