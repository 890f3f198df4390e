package io.livemig.migration.connection;

import io.livemig.migration.control.DestinationControl;
import io.livemig.migration.protocol.Capabilities;
import io.livemig.migration.protocol.ProtocolException;
import io.livemig.transport.rdma.channel.RdmaAcceptDecision;
import io.livemig.transport.rdma.channel.RdmaAcceptor;
import io.livemig.transport.rdma.channel.RdmaChannel;
import io.livemig.transport.rdma.channel.RdmaChannelOption;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import io.livemig.transport.rdma.channel.RdmaServerChannel;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import io.livemig.migration.destination.IncomingMigration;
import io.livemig.migration.destination.MigrationDestination;
import java.util.function.Function;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * A destination listening for migrations ({@code -incoming rdma:HOST:PORT}): each CM connect request's
 * capabilities are negotiated as QEMU's destination does (version 1 only, unknown flags cleared, echoed
 * in the accept), and each accepted connection is published with its control endpoint.
 */
public final class DestinationServer implements AutoCloseable {

    private final RdmaServerChannel server;
    private final Sinks.Many<DestinationConnection> connections;

    private DestinationServer(RdmaServerChannel server, Sinks.Many<DestinationConnection> connections) {
        this.server = server;
        this.connections = connections;
    }

    /**
     * Starts listening.
     *
     * @param group event loops of an {@code RdmaIoHandler}
     * @param devices the RDMA provider
     * @param address where to listen (port 0 picks one)
     * @return the server
     * @throws IOException if listening fails
     */
    public static DestinationServer listen(EventLoopGroup group, RdmaDeviceFactory devices, InetSocketAddress address)
            throws IOException {
        Sinks.Many<DestinationConnection> connections = Sinks.many().unicast().onBackpressureBuffer();
        ServerBootstrap bootstrap = new ServerBootstrap().group(group).channel(RdmaServerChannel.class)
                .option(RdmaChannelOption.ACCEPTOR, negotiator())
                .childHandler(new ChannelInitializer<RdmaChannel>() {
                    @Override
                    protected void initChannel(RdmaChannel channel) {
                        DestinationControl control = new DestinationControl();
                        Capabilities negotiated = Capabilities.negotiateAsDestination(channel.peerPrivateData());
                        channel.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            // Published once ESTABLISHED: only then may the destination send its first READY.
                            @Override
                            public void channelActive(ChannelHandlerContext ctx) {
                                connections.emitNext(new DestinationConnection(channel, control, negotiated),
                                        Sinks.EmitFailureHandler.busyLooping(java.time.Duration.ofSeconds(1)));
                                ctx.fireChannelActive();
                            }
                        }, control);
                    }
                });
        MigrationChannelOptions.applyToServer(bootstrap, devices);
        ChannelFuture bound = bootstrap.bind(address).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            throw new IOException("cannot listen on " + address + ": " + bound.cause().getMessage(), bound.cause());
        }
        return new DestinationServer((RdmaServerChannel) bound.channel(), connections);
    }

    /** QEMU's destination negotiation, as the CM acceptor. */
    static RdmaAcceptor negotiator() {
        return (remote, privateData) -> {
            try {
                return RdmaAcceptDecision.accept(Capabilities.negotiateAsDestination(privateData).toBytes());
            } catch (ProtocolException e) {
                // QEMU tears its context down without an explicit reject; an explicit one tells the source why
                // at once instead of after a timeout.
                return RdmaAcceptDecision.reject(new byte[0]);
            }
        };
    }

    /**
     * Where the server listens.
     *
     * @return the bound address
     */
    public InetSocketAddress localAddress() {
        return server.localAddress();
    }

    /**
     * Incoming connections, one per migration, as they are accepted.
     *
     * @return the connections (a single subscriber)
     */
    public Flux<DestinationConnection> connections() {
        return connections.asFlux();
    }

    /**
     * Incoming migrations, one at a time: each accepted connection is handed to the destination that
     * {@code destinationFor} builds for it and emitted as the RAM and state it received once its stream
     * ends. A failed migration fails the flux after releasing what it held; the connection is closed
     * either way.
     *
     * @param destinationFor builds the destination of one connection
     * @return the completed migrations
     */
    public Flux<IncomingMigration> migrations(Function<DestinationConnection, MigrationDestination> destinationFor) {
        return connections().concatMap(connection -> Mono.usingWhen(Mono.just(connection),
                c -> destinationFor.apply(c).run(status -> { }), DestinationConnection::closing));
    }

    /** Stops listening and closes accepted connections (idempotent). */
    @Override
    public void close() {
        connections.tryEmitComplete();
        Channel channel = server;
        channel.close().awaitUninterruptibly(10, TimeUnit.SECONDS);
    }
}
