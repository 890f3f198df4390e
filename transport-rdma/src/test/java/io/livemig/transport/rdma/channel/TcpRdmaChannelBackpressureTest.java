package io.livemig.transport.rdma.channel;

import java.io.IOException;
import java.net.InetSocketAddress;

/** {@link RdmaChannelBackpressureTest} on the soft provider's TCP fabric. */
class TcpRdmaChannelBackpressureTest extends RdmaChannelBackpressureTest {

    @Override
    RdmaDeviceFactory devices() {
        return TcpFabricFixture.devices();
    }

    @Override
    InetSocketAddress listenAddress() {
        return TcpFabricFixture.listenAddress();
    }

    @Override
    InetSocketAddress addressNobodyListensOn() throws IOException {
        return TcpFabricFixture.addressNobodyListensOn();
    }
}
