package io.livemig.transport.rdma.channel;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** The soft provider's TCP fabric, found through the ServiceLoader: each device brings its own fabric. */
final class TcpFabricFixture implements ChannelFixture {

    @Override
    public RdmaDeviceFactory devices() {
        return RdmaDeviceFactory.named("soft");
    }

    @Override
    public InetSocketAddress listenAddress() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    }

    /** A loopback port that was free a moment ago: a connect to it is refused. */
    @Override
    public InetSocketAddress addressNobodyListensOn() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return new InetSocketAddress(InetAddress.getLoopbackAddress(), socket.getLocalPort());
        }
    }
}
