package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.verbs.conformance.ConnectionManagerConformance;
import io.livemig.transport.rdma.verbs.conformance.ProviderFixture;

/** The ConnectionManager conformance suite on the soft provider's TCP fabric, found through the ServiceLoader. */
class TcpConnectionManagerTest extends ConnectionManagerConformance {

    @Override
    protected ProviderFixture fixture() {
        return SoftFixtures.TCP;
    }
}
