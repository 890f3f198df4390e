package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.verbs.conformance.QueuePairErrorConformance;
import io.livemig.transport.rdma.verbs.conformance.ProviderFixture;

/** The QueuePairError conformance suite on the soft provider's in-JVM fabric. */
class InJvmQueuePairErrorTest extends QueuePairErrorConformance {

    private final ProviderFixture fixture = SoftFixtures.inJvm();

    @Override
    protected ProviderFixture fixture() {
        return fixture;
    }
}
