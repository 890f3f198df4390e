package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.verbs.conformance.SendReceiveConformance;
import io.livemig.transport.rdma.verbs.conformance.ProviderFixture;

/** The SendReceive conformance suite on the soft provider's in-JVM fabric. */
class InJvmSendReceiveTest extends SendReceiveConformance {

    private final ProviderFixture fixture = SoftFixtures.inJvm();

    @Override
    protected ProviderFixture fixture() {
        return fixture;
    }
}
