package io.livemig.transport.rdma.channel;

import java.io.IOException;
import java.net.InetSocketAddress;

/** {@link RdmaChannelRecorderTest} on the soft provider's TCP fabric. */
class TcpRdmaChannelRecorderTest extends RdmaChannelRecorderTest {

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
