package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.verbs.conformance.ConnectionManagerConformance;
import io.livemig.transport.rdma.verbs.conformance.ProviderFixture;

/** The ConnectionManager conformance suite on the soft provider's in-JVM fabric. */
class InJvmConnectionManagerTest extends ConnectionManagerConformance {

    private final ProviderFixture fixture = SoftFixtures.inJvm();

    @Override
    protected ProviderFixture fixture() {
        return fixture;
    }
}
