package io.livemig.transport.rdma.channel;

import java.io.IOException;
import java.net.InetSocketAddress;

/** {@link RdmaChannelPrivateDataTest} on the verbs provider and an RDMA device; skipped without one. */
class VerbsRdmaChannelPrivateDataTest extends RdmaChannelPrivateDataTest {

    @Override
    void assumeAvailable() {
        VerbsDeviceFixture.assumeAvailable();
    }

    @Override
    RdmaDeviceFactory devices() {
        return VerbsDeviceFixture.devices();
    }

    @Override
    InetSocketAddress listenAddress() {
        return VerbsDeviceFixture.listenAddress();
    }

    @Override
    InetSocketAddress addressNobodyListensOn() throws IOException {
        return VerbsDeviceFixture.addressNobodyListensOn();
    }
}
