package io.livemig.migration.connection;

import io.livemig.transport.rdma.channel.RdmaChannelOption;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import io.netty.bootstrap.AbstractBootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.ChannelOption;
import java.util.Map;

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
    /**
     * Send slots. The READY protocol has at most one control SEND outstanding (QEMU keeps one control send
     * buffer); the WRITEs that fill the rest of the send queue need none. One slot per queue entry, the channel's
     * default, would allocate and register 64 MiB per connection (128 x 512 KiB) and cost every connect tens of
     * milliseconds.
     */
    public static final int CONTROL_SENDS = 2;

    private MigrationChannelOptions() {
    }

    /** The options of every migration connection, client or accepted. */
    private static final Map<ChannelOption<?>, Object> CONNECTION = Map.of(
            RdmaChannelOption.CREDIT_FLOW_CONTROL, false,
            RdmaChannelOption.RNR_RETRY_COUNT, 0,
            RdmaChannelOption.RECEIVE_BUFFER_SIZE, CONTROL_BUFFER_SIZE,
            RdmaChannelOption.RECEIVE_BUFFER_COUNT, CONTROL_RECEIVES,
            RdmaChannelOption.SEND_BUFFER_COUNT, CONTROL_SENDS,
            RdmaChannelOption.SEND_QUEUE_DEPTH, SEND_QUEUE_DEPTH);

    /**
     * Applies the options to a source's bootstrap.
     *
     * @param bootstrap a {@code Bootstrap} for the source
     * @param devices the RDMA provider
     */
    @SuppressWarnings("unchecked")
    public static void apply(AbstractBootstrap<?, ?> bootstrap, RdmaDeviceFactory devices) {
        bootstrap.option(RdmaChannelOption.PROVIDER, devices);
        CONNECTION.forEach((option, value) -> bootstrap.option((ChannelOption<Object>) option, value));
    }

    /**
     * Applies the options to a source's extra channel ({@code multifd}): as {@link #apply}, and one-sided
     * ({@link RdmaChannelOption#ONE_SIDED}: the smallest rings). Only RDMA WRITEs go out on it and nothing comes
     * in, so the 3 MiB of 512 KiB
     * send and receive slots a control channel allocates and registers would be set up (on the event loop the
     * migration's control channel may share) for nothing.
     *
     * @param bootstrap a {@code Bootstrap} for the extra channel
     * @param devices the RDMA provider
     */
    public static void applyToExtraChannel(AbstractBootstrap<?, ?> bootstrap, RdmaDeviceFactory devices) {
        apply(bootstrap, devices);
        bootstrap.option(RdmaChannelOption.ONE_SIDED, true);
    }

    /**
     * Applies the options to a destination's server bootstrap: the provider on the listener, the rest on
     * the accepted children.
     *
     * @param bootstrap the server bootstrap
     * @param devices the RDMA provider
     */
    @SuppressWarnings("unchecked")
    public static void applyToServer(ServerBootstrap bootstrap, RdmaDeviceFactory devices) {
        bootstrap.option(RdmaChannelOption.PROVIDER, devices);
        CONNECTION.forEach((option, value) -> bootstrap.childOption((ChannelOption<Object>) option, value));
    }
}
