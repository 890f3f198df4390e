package io.livemig.transport.rdma.channel;

import java.io.IOException;
import java.net.InetSocketAddress;

/** {@link RdmaChannelEchoTest} on the verbs provider and an RDMA device; skipped without one. */
class VerbsRdmaChannelEchoTest extends RdmaChannelEchoTest {

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
