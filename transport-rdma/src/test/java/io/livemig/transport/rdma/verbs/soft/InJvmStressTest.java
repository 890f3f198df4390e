package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.verbs.conformance.StressConformance;
import io.livemig.transport.rdma.verbs.conformance.ProviderFixture;

/** The Stress conformance suite on the soft provider's in-JVM fabric. */
class InJvmStressTest extends StressConformance {

    private final ProviderFixture fixture = SoftFixtures.inJvm();

    @Override
    protected ProviderFixture fixture() {
        return fixture;
    }
}
