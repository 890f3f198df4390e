package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.verbs.conformance.ResourceLeakConformance;
import io.livemig.transport.rdma.verbs.conformance.ProviderFixture;

/** The ResourceLeak conformance suite on the soft provider's TCP fabric, found through the ServiceLoader. */
class TcpResourceLeakTest extends ResourceLeakConformance {

    @Override
    protected ProviderFixture fixture() {
        return SoftFixtures.TCP;
    }

    @Override
    protected String threadPrefix() {
        return "livemig-soft-";
    }
}
