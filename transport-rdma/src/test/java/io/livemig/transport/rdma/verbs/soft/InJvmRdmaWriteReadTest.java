package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.verbs.conformance.RdmaWriteReadConformance;
import io.livemig.transport.rdma.verbs.conformance.ProviderFixture;

/** The RdmaWriteRead conformance suite on the soft provider's in-JVM fabric. */
class InJvmRdmaWriteReadTest extends RdmaWriteReadConformance {

    private final ProviderFixture fixture = SoftFixtures.inJvm();

    @Override
    protected ProviderFixture fixture() {
        return fixture;
    }
}
