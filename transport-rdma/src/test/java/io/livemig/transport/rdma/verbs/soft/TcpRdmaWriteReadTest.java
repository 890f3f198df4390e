package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.verbs.conformance.RdmaWriteReadConformance;
import io.livemig.transport.rdma.verbs.conformance.ProviderFixture;

/** The RdmaWriteRead conformance suite on the soft provider's TCP fabric, found through the ServiceLoader. */
class TcpRdmaWriteReadTest extends RdmaWriteReadConformance {

    @Override
    protected ProviderFixture fixture() {
        return SoftFixtures.TCP;
    }
}
