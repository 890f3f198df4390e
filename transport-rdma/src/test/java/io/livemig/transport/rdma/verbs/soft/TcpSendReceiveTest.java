package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.verbs.conformance.SendReceiveConformance;
import io.livemig.transport.rdma.verbs.conformance.ProviderFixture;

/** The SendReceive conformance suite on the soft provider's TCP fabric, found through the ServiceLoader. */
class TcpSendReceiveTest extends SendReceiveConformance {

    @Override
    protected ProviderFixture fixture() {
        return SoftFixtures.TCP;
    }
}
