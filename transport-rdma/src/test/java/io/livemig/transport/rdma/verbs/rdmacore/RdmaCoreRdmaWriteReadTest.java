package io.livemig.transport.rdma.verbs.rdmacore;

import io.livemig.transport.rdma.verbs.conformance.RdmaWriteReadConformance;
import io.livemig.transport.rdma.verbs.conformance.ProviderFixture;

/** The RdmaWriteRead conformance suite on the verbs provider (a real RDMA device); skipped without one. */
class RdmaCoreRdmaWriteReadTest extends RdmaWriteReadConformance {

    @Override
    protected ProviderFixture fixture() {
        return RdmaCoreFixtures.FIXTURE;
    }
}
