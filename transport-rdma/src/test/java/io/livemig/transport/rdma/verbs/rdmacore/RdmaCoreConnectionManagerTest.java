package io.livemig.transport.rdma.verbs.rdmacore;

import io.livemig.transport.rdma.verbs.conformance.ConnectionManagerConformance;
import io.livemig.transport.rdma.verbs.conformance.ProviderFixture;

/** The ConnectionManager conformance suite on the verbs provider (a real RDMA device); skipped without one. */
class RdmaCoreConnectionManagerTest extends ConnectionManagerConformance {

    @Override
    protected ProviderFixture fixture() {
        return RdmaCoreFixtures.FIXTURE;
    }
}
