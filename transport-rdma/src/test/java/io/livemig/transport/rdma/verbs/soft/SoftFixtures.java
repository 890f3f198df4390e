package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.verbs.DeviceContext;
import io.livemig.transport.rdma.verbs.Verbs;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.conformance.ProviderFixture;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;

/** The soft provider's fixtures for the conformance suite: its TCP fabric and its in-JVM fabric. */
public final class SoftFixtures {

    /** The name prefix of every thread the soft provider starts. */
    public static final String THREAD_PREFIX = SoftThreads.PREFIX;

    /** The TCP fabric, found through the ServiceLoader: each device brings its own fabric. */
    public static final ProviderFixture TCP = new ProviderFixture() {
        @Override
        public DeviceContext openDevice() throws VerbsException {
            return Verbs.provider("soft").open();
        }

        @Override
        public InetSocketAddress listenAddress() {
            return loopback(0);
        }

        @Override
        public InetSocketAddress addressNobodyListensOn() throws IOException {
            return freeTcpPort();
        }
    };

    private SoftFixtures() {
    }

    /**
     * The in-JVM fabric: one fabric per test (so make it a field of the test), every device of the test on it.
     *
     * @return the fixture
     */
    public static InJvm inJvm() {
        return new InJvm(new InJvmFabric());
    }

    /**
     * The in-JVM fabric with a given ACK timeout.
     *
     * @param ackTimeout the fabric's retransmission timeout
     * @return the fixture
     */
    static InJvm inJvm(Duration ackTimeout) {
        return new InJvm(new InJvmFabric(ackTimeout));
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

    /**
     * A fixture on one in-JVM fabric, closed with the test.
     *
     * @param fabric the fabric, for fault injection
     */
    public record InJvm(InJvmFabric fabric) implements ProviderFixture {

        @Override
        public DeviceContext openDevice() throws VerbsException {
            return new SoftVerbsProvider().open(fabric);
        }

        @Override
        public InetSocketAddress listenAddress() {
            return loopback(0);
        }

        @Override
        public InetSocketAddress addressNobodyListensOn() {
            return loopback(1);
        }

        @Override
        public void close() {
            fabric.close();
        }
    }
}
