package io.livemig.migration.connection;

import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import io.livemig.transport.rdma.channel.RdmaIoHandler;
import io.livemig.transport.rdma.verbs.soft.InJvmFabric;
import io.livemig.transport.rdma.verbs.soft.SoftVerbsProvider;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import java.util.concurrent.TimeUnit;

/**
 * The soft provider as this package's tests run it: two event loops that poll completion queues, and an in-JVM
 * fabric for the {@code in-jvm} invocations (the {@code soft-tcp} ones use the provider's own TCP fabric). One per
 * test; {@link #close()} shuts the loops down, then the fabric.
 */
final class SoftFabrics implements AutoCloseable {

    /** The event loops every channel of the test runs on. */
    final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, RdmaIoHandler.newFactory());
    private final InJvmFabric fabric = new InJvmFabric();

    /** Devices on this test's in-JVM fabric. */
    RdmaDeviceFactory inJvm() {
        return () -> new SoftVerbsProvider().open(fabric);
    }

    /**
     * Devices of the named soft fabric.
     *
     * @param fabricName {@code soft-tcp} or {@code in-jvm}
     * @return the factory
     */
    RdmaDeviceFactory devices(String fabricName) {
        return fabricName.equals("soft-tcp") ? RdmaDeviceFactory.named("soft") : inJvm();
    }

    @Override
    public void close() throws InterruptedException {
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).await(20, TimeUnit.SECONDS);
        fabric.close();
    }
}
