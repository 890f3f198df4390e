package io.livemig.transport.rdma.verbs.rdmacore;

import io.livemig.transport.rdma.verbs.conformance.SendReceiveConformance;
import io.livemig.transport.rdma.verbs.conformance.ProviderFixture;

/** The SendReceive conformance suite on the verbs provider (a real RDMA device); skipped without one. */
class RdmaCoreSendReceiveTest extends SendReceiveConformance {

    @Override
    protected ProviderFixture fixture() {
        return RdmaCoreFixtures.FIXTURE;
    }
}
