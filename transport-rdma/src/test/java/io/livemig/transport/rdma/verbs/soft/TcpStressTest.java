package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.verbs.conformance.StressConformance;
import io.livemig.transport.rdma.verbs.conformance.ProviderFixture;

/** The Stress conformance suite on the soft provider's TCP fabric, found through the ServiceLoader. */
class TcpStressTest extends StressConformance {

    @Override
    protected ProviderFixture fixture() {
        return SoftFixtures.TCP;
    }
}
