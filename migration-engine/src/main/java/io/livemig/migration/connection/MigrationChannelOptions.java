package io.livemig.migration.connection;

import io.livemig.transport.rdma.channel.RdmaChannelOption;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import io.netty.bootstrap.AbstractBootstrap;
import io.netty.bootstrap.ServerBootstrap;

/**
 * Channel options for a migration connection, as QEMU sets up its QP and control buffers (spec sections
 * 1, 2.2 and 3.3): plain SENDs without the channel's own credits (the READY protocol is the credit
 * scheme, and a QEMU peer knows no other), no RNR retries, 512 KiB receive buffers.
 */
public final class MigrationChannelOptions {

    /** Size of each control receive buffer: the largest control message (RDMA_CONTROL_MAX_BUFFER). */
    public static final int CONTROL_BUFFER_SIZE = 512 * 1024;
    /**
     * Receives kept posted. The READY protocol never has more than two messages in flight towards one
     * side (a response and the READY after it); two more cover re-posting after release.
     */
    public static final int CONTROL_RECEIVES = 4;
    /** Send queue depth: room for the RDMA WRITEs in flight plus the one control SEND. */
    public static final int SEND_QUEUE_DEPTH = 128;

    private MigrationChannelOptions() {
    }

    /**
     * Applies the options to a client or server-child bootstrap.
     *
     * @param bootstrap a {@code Bootstrap} for the source
     * @param devices the RDMA provider
     */
    public static void apply(AbstractBootstrap<?, ?> bootstrap, RdmaDeviceFactory devices) {
        bootstrap.option(RdmaChannelOption.PROVIDER, devices)
                .option(RdmaChannelOption.CREDIT_FLOW_CONTROL, false)
                .option(RdmaChannelOption.RNR_RETRY_COUNT, 0)
                .option(RdmaChannelOption.RECEIVE_BUFFER_SIZE, CONTROL_BUFFER_SIZE)
                .option(RdmaChannelOption.RECEIVE_BUFFER_COUNT, CONTROL_RECEIVES)
                .option(RdmaChannelOption.SEND_QUEUE_DEPTH, SEND_QUEUE_DEPTH);
    }

    /**
     * Applies the options to a destination's server bootstrap: the provider on the listener, the rest on
     * the accepted children.
     *
     * @param bootstrap the server bootstrap
     * @param devices the RDMA provider
     */
    public static void applyToServer(ServerBootstrap bootstrap, RdmaDeviceFactory devices) {
        bootstrap.option(RdmaChannelOption.PROVIDER, devices)
                .childOption(RdmaChannelOption.CREDIT_FLOW_CONTROL, false)
                .childOption(RdmaChannelOption.RNR_RETRY_COUNT, 0)
                .childOption(RdmaChannelOption.RECEIVE_BUFFER_SIZE, CONTROL_BUFFER_SIZE)
                .childOption(RdmaChannelOption.RECEIVE_BUFFER_COUNT, CONTROL_RECEIVES)
                .childOption(RdmaChannelOption.SEND_QUEUE_DEPTH, SEND_QUEUE_DEPTH);
    }
}
