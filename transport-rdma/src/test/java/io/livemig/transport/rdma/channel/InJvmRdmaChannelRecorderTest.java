package io.livemig.transport.rdma.channel;

import java.net.InetSocketAddress;

/** {@link RdmaChannelRecorderTest} on the soft provider's in-JVM fabric. */
class InJvmRdmaChannelRecorderTest extends RdmaChannelRecorderTest {

    private final InJvmFabricFixture fabric = new InJvmFabricFixture();

    @Override
    RdmaDeviceFactory devices() {
        return fabric.devices();
    }

    @Override
    InetSocketAddress listenAddress() {
        return InJvmFabricFixture.listenAddress();
    }

    @Override
    InetSocketAddress addressNobodyListensOn() {
        return InJvmFabricFixture.addressNobodyListensOn();
    }

    @Override
    void closeFixture() {
        fabric.close();
    }
}
