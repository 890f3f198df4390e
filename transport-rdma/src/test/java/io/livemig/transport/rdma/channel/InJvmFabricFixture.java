package io.livemig.transport.rdma.channel;

import io.livemig.transport.rdma.verbs.soft.InJvmFabric;
import io.livemig.transport.rdma.verbs.soft.SoftVerbsProvider;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/** The soft provider's in-JVM fabric: one fabric per test, every device of the test on it. */
final class InJvmFabricFixture implements ChannelFixture {

    private final InJvmFabric fabric = new InJvmFabric();

    @Override
    public RdmaDeviceFactory devices() {
        return () -> new SoftVerbsProvider().open(fabric);
    }

    @Override
    public InetSocketAddress listenAddress() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    }

    @Override
    public InetSocketAddress addressNobodyListensOn() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), 1);
    }

    @Override
    public void close() {
        fabric.close();
    }
}
