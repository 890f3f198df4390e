package io.livemig.migration.monitor;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.ChannelGroupFuture;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerDomainSocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A monitor listening on a socket: HMP text or QMP JSON, on {@code unix:PATH} or {@code tcp:HOST:PORT}.
 * Any number of clients at once; every client acts on the same {@link MigrationTarget}.
 *
 * <p>Netty serves the sockets, by default on a single event-loop thread of the server's own, which it shuts
 * down at {@link #close}; a caller that runs many servers may lend them a NIO group instead, which the server
 * then leaves running. Commands never run on the event loop: each client's run in order on a virtual thread of
 * its own (see {@link MonitorSession}), since they may block for as long as a migration.
 *
 * <p>A {@code unix:} socket file is created with mode 0600 (see {@link UnixSocketFile}), replaces a stale
 * socket file at its path and is removed at close, as QEMU does with its own.
 */
public final class MonitorServer implements AutoCloseable {

    /** How long {@link #close} waits for the sockets and its own event loop to stop. */
    private static final long CLOSE_TIMEOUT_SECONDS = 5;

    private final EventLoopGroup group;
    private final boolean ownsGroup;
    private final Channel server;
    private final ChannelGroup sessions;
    private final UnixSocketFile socketFile;
    private final String bound;
    private final AtomicBoolean closed = new AtomicBoolean();

    /** Sets up a new connection's pipeline for one protocol. */
    @FunctionalInterface
    private interface Protocol {
        void initialize(ChannelPipeline pipeline, MigrationTarget target, String name);
    }

    private MonitorServer(String kind, String addressText, MigrationTarget target, Protocol protocol,
            EventLoopGroup lent) {
        MonitorAddress address = MonitorAddress.parse(Objects.requireNonNull(addressText, "address"));
        Objects.requireNonNull(target, "target");
        this.ownsGroup = lent == null;
        // One thread serves every client of a monitor: it only moves bytes, the commands run elsewhere.
        this.group = ownsGroup ? new MultiThreadIoEventLoopGroup(1,
                Thread.ofPlatform().name("livemig-" + kind + "-monitor").daemon().factory(), NioIoHandler.newFactory())
                : lent;
        // stayClosed: a client accepted while close() runs is closed as it joins.
        this.sessions = new DefaultChannelGroup("livemig-" + kind + "-sessions", ImmediateEventExecutor.INSTANCE, true);
        String where = address.isUnix() ? "unix:" + address.unixPath()
                : "tcp:" + address.host() + ":" + address.port();
        UnixSocketFile file = null;
        Channel channel = null;
        boolean started = false;
        try {
            file = address.isUnix() ? UnixSocketFile.prepare(address.unixPath()) : null;
            channel = bind(address.isUnix() ? NioServerDomainSocketChannel.class : NioServerSocketChannel.class,
                    file != null ? file.bindAddress() : address.socketAddress(), target, protocol, where);
            if (file != null) {
                file.publish();
            }
            this.bound = address.describe(channel.localAddress());
            started = true;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + where + ": " + e.getMessage(), e);
        } finally {
            if (!started) {
                // All or nothing: a monitor that could not start leaves no socket, file or thread behind.
                if (channel != null) {
                    channel.close().awaitUninterruptibly();
                }
                if (file != null) {
                    file.close();
                }
                if (ownsGroup) {
                    group.shutdownGracefully(0, CLOSE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
                }
            }
        }
        this.server = channel;
        this.socketFile = file;
    }

    private Channel bind(Class<? extends ServerChannel> type, SocketAddress local, MigrationTarget target,
            Protocol protocol, String where) throws IOException {
        ChannelFuture bind = new ServerBootstrap()
                .group(group)
                .channel(type)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel child) {
                        sessions.add(child);
                        String name = child.localAddress() instanceof InetSocketAddress tcp
                                ? MonitorAddress.hostPort("tcp", tcp) : where;
                        protocol.initialize(child.pipeline(), target, name);
                    }
                })
                .bind(local)
                .awaitUninterruptibly();
        if (!bind.isSuccess()) {
            Throwable cause = bind.cause();
            throw cause instanceof IOException io ? io : new IOException(cause.getMessage(), cause);
        }
        return bind.channel();
    }

    /**
     * Serves HMP on an address, on an event loop of its own.
     *
     * @param address {@code unix:PATH} or {@code tcp:HOST:PORT}
     * @param target what the commands act on
     * @return the running server
     * @throws IllegalArgumentException for a malformed address
     * @throws java.io.UncheckedIOException if it cannot listen
     */
    public static MonitorServer hmp(String address, MigrationTarget target) {
        return new MonitorServer("hmp", address, target, HmpSession::initialize, null);
    }

    /**
     * Serves HMP on an address, on a lent event loop group.
     *
     * @param address {@code unix:PATH} or {@code tcp:HOST:PORT}
     * @param target what the commands act on
     * @param group a group of NIO event loops ({@link NioIoHandler}); not owned, left running at close; not
     *        to be called from one of its loops, as starting waits for the bind
     * @return the running server
     * @throws IllegalArgumentException for a malformed address
     * @throws java.io.UncheckedIOException if it cannot listen
     */
    public static MonitorServer hmp(String address, MigrationTarget target, EventLoopGroup group) {
        return new MonitorServer("hmp", address, target, HmpSession::initialize,
                Objects.requireNonNull(group, "group"));
    }

    /**
     * Serves QMP on an address, on an event loop of its own.
     *
     * @param address {@code unix:PATH} or {@code tcp:HOST:PORT}
     * @param target what the commands act on
     * @return the running server
     * @throws IllegalArgumentException for a malformed address
     * @throws java.io.UncheckedIOException if it cannot listen
     */
    public static MonitorServer qmp(String address, MigrationTarget target) {
        return new MonitorServer("qmp", address, target, QmpSession::initialize, null);
    }

    /**
     * Serves QMP on an address, on a lent event loop group.
     *
     * @param address {@code unix:PATH} or {@code tcp:HOST:PORT}
     * @param target what the commands act on
     * @param group a group of NIO event loops ({@link NioIoHandler}); not owned, left running at close; not
     *        to be called from one of its loops, as starting waits for the bind
     * @return the running server
     * @throws IllegalArgumentException for a malformed address
     * @throws java.io.UncheckedIOException if it cannot listen
     */
    public static MonitorServer qmp(String address, MigrationTarget target, EventLoopGroup group) {
        return new MonitorServer("qmp", address, target, QmpSession::initialize,
                Objects.requireNonNull(group, "group"));
    }

    /**
     * Where it listens, as {@code unix:PATH} or {@code tcp:HOST:PORT} with the bound port.
     *
     * @return the address
     */
    public String address() {
        return bound;
    }

    /**
     * The event loops it runs on. Visible only for testing.
     *
     * @return its own group, or the lent one
     */
    EventLoopGroup group() {
        return group;
    }

    /**
     * Stops listening, closes every session, removes a {@code unix:} socket file and shuts its own event loop
     * down (idempotent; safe from any thread). It waits up to a few seconds for all that, except when called on
     * one of the server's event loops, which cannot wait for itself.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        ChannelFuture serverClosed = server.close();
        ChannelGroupFuture sessionsClosed = sessions.close();
        if (socketFile != null) {
            // The name goes at once; the listening socket behind it is closed by the loop.
            socketFile.close();
        }
        if (ownsGroup) {
            // Shut the loop down only once the closes ran: a loop that shuts down closes its channels at once,
            // ahead of the writes still queued for them (the answer to a quit that closes this server, say).
            sessionsClosed.addListener(sessionsDone -> serverClosed.addListener(serverDone ->
                    group.shutdownGracefully(0, CLOSE_TIMEOUT_SECONDS, TimeUnit.SECONDS)));
        }
        if (onOwnLoop()) {
            return;
        }
        serverClosed.awaitUninterruptibly(CLOSE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        sessionsClosed.awaitUninterruptibly(CLOSE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (ownsGroup) {
            group.terminationFuture().awaitUninterruptibly(CLOSE_TIMEOUT_SECONDS * 2, TimeUnit.SECONDS);
        }
    }

    private boolean onOwnLoop() {
        for (EventExecutor loop : group) {
            if (loop.inEventLoop()) {
                return true;
            }
        }
        return false;
    }
}
