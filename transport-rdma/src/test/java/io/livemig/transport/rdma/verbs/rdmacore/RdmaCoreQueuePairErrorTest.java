package io.livemig.transport.rdma.verbs.rdmacore;

import io.livemig.transport.rdma.verbs.conformance.QueuePairErrorConformance;
import io.livemig.transport.rdma.verbs.conformance.ProviderFixture;

/** The QueuePairError conformance suite on the verbs provider (a real RDMA device); skipped without one. */
class RdmaCoreQueuePairErrorTest extends QueuePairErrorConformance {

    @Override
    protected ProviderFixture fixture() {
        return RdmaCoreFixtures.FIXTURE;
    }
}
