package io.livemig.transport.rdma.verbs.soft;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** Addresses for the soft provider's tests. */
final class SoftFixtures {

    private SoftFixtures() {
    }

    static InetSocketAddress loopback(int port) {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    /** A loopback port that was free a moment ago: a connect to it is refused. */
    static InetSocketAddress freeTcpPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return loopback(socket.getLocalPort());
        }
    }
}
