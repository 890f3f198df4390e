package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.verbs.conformance.ResourceLeakConformance;
import io.livemig.transport.rdma.verbs.conformance.ProviderFixture;

/** The ResourceLeak conformance suite on the soft provider's in-JVM fabric. */
class InJvmResourceLeakTest extends ResourceLeakConformance {

    private final ProviderFixture fixture = SoftFixtures.inJvm();

    @Override
    protected ProviderFixture fixture() {
        return fixture;
    }

    @Override
    protected String threadPrefix() {
        return "livemig-soft-";
    }
}
