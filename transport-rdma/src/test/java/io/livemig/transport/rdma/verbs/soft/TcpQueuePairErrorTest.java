package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.verbs.conformance.QueuePairErrorConformance;
import io.livemig.transport.rdma.verbs.conformance.ProviderFixture;

/** The QueuePairError conformance suite on the soft provider's TCP fabric, found through the ServiceLoader. */
class TcpQueuePairErrorTest extends QueuePairErrorConformance {

    @Override
    protected ProviderFixture fixture() {
        return SoftFixtures.TCP;
    }
}
