package io.livemig.transport.rdma.verbs.rdmacore;

import io.livemig.transport.rdma.verbs.conformance.StressConformance;
import io.livemig.transport.rdma.verbs.conformance.ProviderFixture;

/** The Stress conformance suite on the verbs provider (a real RDMA device); skipped without one. */
class RdmaCoreStressTest extends StressConformance {

    @Override
    protected ProviderFixture fixture() {
        return RdmaCoreFixtures.FIXTURE;
    }
}
