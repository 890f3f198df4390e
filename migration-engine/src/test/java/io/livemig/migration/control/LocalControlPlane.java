package io.livemig.migration.control;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalIoHandler;
import io.netty.channel.local.LocalServerChannel;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The control plane of a migration over Netty's local transport, as the engine's tests run it without RDMA: a
 * destination's {@link DestinationControl} behind a local server channel (with {@link ControlFraming} in front, and
 * whatever handlers a test puts between the two), and a source's {@link SourceControl} connected to it. One per test;
 * {@link #close()} closes the server and shuts the two event loops down.
 */
public final class LocalControlPlane implements AutoCloseable {

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, LocalIoHandler.newFactory());
    private final LocalAddress address;
    private final Channel server;
    private final CompletableFuture<DestinationControl> accepted = new CompletableFuture<>();

    /**
     * Binds the destination's side.
     *
     * @param name the local address's name (one per test class)
     * @param between makes the handlers placed between the framing and the destination's control, per connection
     * @throws InterruptedException if interrupted while binding
     */
    public LocalControlPlane(String name, Supplier<List<ChannelHandler>> between) throws InterruptedException {
        this.address = new LocalAddress(name);
        this.server = new ServerBootstrap().group(group).channel(LocalServerChannel.class)
                .childHandler(new ChannelInitializer<LocalChannel>() {
                    @Override
                    protected void initChannel(LocalChannel ch) {
                        DestinationControl control = new DestinationControl();
                        ch.pipeline().addLast(ControlFraming.decoder());
                        between.get().forEach(handler -> ch.pipeline().addLast(handler));
                        ch.pipeline().addLast(control);
                        accepted.complete(control);
                    }
                })
                .bind(address).sync().channel();
    }

    /**
     * Binds the destination's side with nothing between the framing and the control.
     *
     * @param name the local address's name
     * @throws InterruptedException if interrupted while binding
     */
    public LocalControlPlane(String name) throws InterruptedException {
        this(name, List::of);
    }

    /**
     * The event loops both sides run on.
     *
     * @return the group
     */
    public EventLoopGroup group() {
        return group;
    }

    /**
     * Connects a source's control endpoint (framed) to the destination.
     *
     * @param control the source's endpoint
     * @return the source's connected channel
     * @throws InterruptedException if interrupted while connecting
     */
    public Channel connect(SourceControl control) throws InterruptedException {
        return new Bootstrap().group(group).channel(LocalChannel.class).handler(ControlFraming.pipeline(control))
                .connect(address).sync().channel();
    }

    /**
     * The destination's control endpoint of the first connection, once accepted.
     *
     * @return the endpoint
     * @throws Exception if none was accepted within 10 s
     */
    public DestinationControl accepted() throws Exception {
        return accepted.get(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        server.close().sync();
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).sync();
    }
}
