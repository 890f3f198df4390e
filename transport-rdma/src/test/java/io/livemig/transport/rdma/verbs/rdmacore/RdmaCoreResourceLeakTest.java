package io.livemig.transport.rdma.verbs.rdmacore;

import io.livemig.transport.rdma.verbs.conformance.ResourceLeakConformance;
import io.livemig.transport.rdma.verbs.conformance.ProviderFixture;

/** The ResourceLeak conformance suite on the verbs provider (a real RDMA device); skipped without one. */
class RdmaCoreResourceLeakTest extends ResourceLeakConformance {

    @Override
    protected ProviderFixture fixture() {
        return RdmaCoreFixtures.FIXTURE;
    }

    @Override
    protected String threadPrefix() {
        return DeviceThread.NAME_PREFIX;
    }
}
