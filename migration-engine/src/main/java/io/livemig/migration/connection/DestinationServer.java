package io.livemig.migration.connection;

import io.livemig.migration.auth.AuthKey;
import io.livemig.migration.auth.ProofVerifier;
import io.livemig.migration.control.DestinationControl;
import io.livemig.migration.protocol.Capabilities;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.protocol.MultifdSession;
import io.livemig.migration.protocol.ProtocolException;
import io.livemig.transport.rdma.channel.RdmaAcceptDecision;
import io.livemig.transport.rdma.channel.RdmaAcceptor;
import io.livemig.transport.rdma.channel.RdmaChannel;
import io.livemig.transport.rdma.channel.RdmaChannelOption;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import io.livemig.transport.rdma.channel.RdmaServerChannel;
import io.livemig.transport.rdma.unix.Errno;
import io.livemig.transport.rdma.unix.NativeIoException;
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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
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
 *
 * <p>Admission happens in the CM acceptor, before the connection has a queue pair or any memory is registered:
 * with a key, a request without a valid, fresh, unseen {@link io.livemig.migration.auth.AuthProof} is rejected
 * ({@link RejectReason#AUTHENTICATION}); while one accepted connection is open, another is rejected
 * ({@link RejectReason#BUSY}): a destination serves one migration at a time per listening address. The extra
 * channels of the running migration ({@code multifd}) are admitted when they name its {@link MultifdSession} (and,
 * with a key, prove it); any other extra channel is rejected ({@link RejectReason#UNKNOWN_SESSION}).
 */
public final class DestinationServer implements AutoCloseable {

    /**
     * Who may connect, and who hears about those who may not.
     *
     * @param key the shared key, or {@code null} to accept anyone
     * @param rejected told, on an event loop, of each rejected peer and why (for example
     *     {@code "authentication failed: replayed authentication proof"}); must not block
     */
    public record Admission(AuthKey key, BiConsumer<InetSocketAddress, String> rejected) {

        /** No key; rejections are logged ({@code System.Logger}, WARNING). */
        public static final Admission OPEN = new Admission(null, Admission::log);

        /**
         * A key (or none), rejections logged.
         *
         * @param key the shared key, or {@code null}
         * @return the admission
         */
        public static Admission withKey(AuthKey key) {
            return new Admission(key, Admission::log);
        }

        private static void log(InetSocketAddress peer, String why) {
            System.getLogger(DestinationServer.class.getName()).log(System.Logger.Level.WARNING,
                    "rejected " + peer + ": " + why);
        }
    }

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
     * @throws IOException if listening fails, saying so once: {@code cannot listen on rdma:HOST:PORT: REASON}
     */
    public static DestinationServer listen(EventLoopGroup group, RdmaDeviceFactory devices, InetSocketAddress address)
            throws IOException {
        return listen(group, devices, address, Admission.OPEN);
    }

    /**
     * Starts listening, admitting only what {@code admission} allows.
     *
     * @param group event loops of an {@code RdmaIoHandler}
     * @param devices the RDMA provider
     * @param address where to listen (port 0 picks one)
     * @param admission the key, if any, and where rejections are reported
     * @return the server
     * @throws IOException if listening fails, saying so once: {@code cannot listen on rdma:HOST:PORT: REASON}
     */
    public static DestinationServer listen(EventLoopGroup group, RdmaDeviceFactory devices, InetSocketAddress address,
            Admission admission) throws IOException {
        return listen(group, devices, address, admission, DEFAULT_HANDSHAKE_TIMEOUT);
    }

    /** How long an accepted connection may wait for the source's confirmation (the channel's own default). */
    static final java.time.Duration DEFAULT_HANDSHAKE_TIMEOUT = java.time.Duration.ofSeconds(30);

    /**
     * Starts listening, admitting only what {@code admission} allows; an accepted connection that the source never
     * confirms (it gave up, crashed, or its link went) is dropped after {@code handshakeTimeout}, releasing the
     * receive buffers its accept registered.
     *
     * @param group event loops of an {@code RdmaIoHandler}
     * @param devices the RDMA provider
     * @param address where to listen (port 0 picks one)
     * @param admission the key, if any, and where rejections are reported
     * @param handshakeTimeout how long an accept waits for the connection to be established
     * @return the server
     * @throws IOException if listening fails, saying so once: {@code cannot listen on rdma:HOST:PORT: REASON}
     */
    public static DestinationServer listen(EventLoopGroup group, RdmaDeviceFactory devices, InetSocketAddress address,
            Admission admission, java.time.Duration handshakeTimeout) throws IOException {
        Sinks.Many<DestinationConnection> connections = Sinks.many().unicast().onBackpressureBuffer();
        // Accepted connections still open: checked and raised only by the acceptor, on the server's event loop, so
        // check-then-raise cannot race itself; lowered from any child's loop when it closes.
        AtomicInteger open = new AtomicInteger();
        MultifdSessions sessions = new MultifdSessions();
        ServerBootstrap bootstrap = new ServerBootstrap().group(group).channel(RdmaServerChannel.class)
                .option(RdmaChannelOption.ACCEPTOR, negotiator(admission, open, sessions))
                .handler(new ChannelInboundHandlerAdapter() {
                    // Runs before the bootstrap's acceptor registers the child: the slot is freed however it ends.
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object child) {
                        ((Channel) child).closeFuture().addListener(f -> open.decrementAndGet());
                        sessions.accepted((RdmaChannel) child);
                        ctx.fireChannelRead(child);
                    }
                })
                .childHandler(new ChannelInitializer<RdmaChannel>() {
                    @Override
                    protected void initChannel(RdmaChannel channel) {
                        if (MultifdSession.isChannelConnect(channel.peerPrivateData())) {
                            // An extra channel carries only RDMA WRITEs: no control endpoint, nothing to publish;
                            // it closes with its migration's first connection (MultifdSessions).
                            return;
                        }
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
        bootstrap.childOption(io.netty.channel.ChannelOption.CONNECT_TIMEOUT_MILLIS,
                (int) Math.clamp(handshakeTimeout.toMillis(), 1, Integer.MAX_VALUE));
        String where = new MigrationUri(address.getHostString(), address.getPort()).toString();
        if (address.isUnresolved()) {
            throw new IOException("cannot listen on " + where + ": cannot resolve " + address.getHostString());
        }
        ChannelFuture bound = bootstrap.bind(address).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            // The one layer that says "cannot listen": the provider and the channel only name what failed.
            throw new IOException("cannot listen on " + where + ": " + reason(bound.cause()), bound.cause());
        }
        return new DestinationServer((RdmaServerChannel) bound.channel(), connections);
    }

    /**
     * Why a bind failed, in the operating system's words: the errno's description where the provider had one
     * ({@code rdma_bind_addr}'s EADDRINUSE is "address already in use"), else the innermost message.
     */
    static String reason(Throwable failure) {
        String message = null;
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof NativeIoException nativeFailure) {
                message = Errno.description(nativeFailure.errno());
                break;
            }
            if (cause.getMessage() != null) {
                message = cause.getMessage();
            }
        }
        if (message == null) {
            return failure.getClass().getSimpleName();
        }
        // strerror's capital starts a sentence; here the reason ends one ("cannot listen on ...: address ...").
        return message.length() > 1 && Character.isUpperCase(message.charAt(0))
                && Character.isLowerCase(message.charAt(1))
                ? Character.toLowerCase(message.charAt(0)) + message.substring(1) : message;
    }

    /** QEMU's destination negotiation, as the CM acceptor, behind the key check and the one-at-a-time rule. */
    static RdmaAcceptor negotiator(Admission admission, AtomicInteger open) {
        return negotiator(admission, open, new MultifdSessions());
    }

    /** As above, with the migration's extra channels ({@code multifd}) admitted through {@code sessions}. */
    static RdmaAcceptor negotiator(Admission admission, AtomicInteger open, MultifdSessions sessions) {
        ProofVerifier verifier = admission.key() == null ? null : new ProofVerifier(admission.key());
        return (remote, privateData) -> {
            if (MultifdSession.isChannelConnect(privateData)) {
                return extraChannel(admission, verifier, open, sessions, remote, privateData);
            }
            Capabilities negotiated;
            try {
                // Fewer than 8 bytes: a DiSNI destination cannot read them; it runs as pin-all and still answers
                // REGISTER REQUESTs (docs/disni-provider.md).
                negotiated = Capabilities.negotiateAsDestination(privateData);
            } catch (ProtocolException e) {
                // QEMU tears its context down without an explicit reject; an explicit one tells the source why
                // at once instead of after a timeout.
                admission.rejected().accept(remote, e.getMessage());
                return RdmaAcceptDecision.reject(RejectReason.CAPABILITIES.toPrivateData());
            }
            if (verifier != null) {
                ProofVerifier.Verdict verdict = verifier.verify(privateData);
                if (verdict != ProofVerifier.Verdict.ACCEPTED) {
                    admission.rejected().accept(remote, "authentication failed: " + verdict.description());
                    return RdmaAcceptDecision.reject(RejectReason.AUTHENTICATION.toPrivateData());
                }
            }
            if (open.get() > 0) {
                admission.rejected().accept(remote, "busy with another migration");
                return RdmaAcceptDecision.reject(RejectReason.BUSY.toPrivateData());
            }
            open.incrementAndGet();
            if (negotiated.multifd()) {
                // The capabilities, then the id the source's extra channels must name.
                return RdmaAcceptDecision.accept(sessions.begin().acceptPrivateData(negotiated));
            }
            // Only the 8 capability bytes go back, as QEMU's accept has them: the proof is not echoed.
            return RdmaAcceptDecision.accept(negotiated.toBytes());
        };
    }

    /**
     * An extra channel's connect: the key checked as for a migration (the proof signs the id), then admitted only
     * for the migration running now, into the protection domain of its first connection so that the rkeys the source
     * learnt there work on this queue pair too.
     */
    private static RdmaAcceptDecision extraChannel(Admission admission, ProofVerifier verifier, AtomicInteger open,
            MultifdSessions sessions, InetSocketAddress remote, byte[] privateData) {
        if (verifier != null) {
            ProofVerifier.Verdict verdict = verifier.verify(privateData);
            if (verdict != ProofVerifier.Verdict.ACCEPTED) {
                admission.rejected().accept(remote, "authentication failed: " + verdict.description());
                return RdmaAcceptDecision.reject(RejectReason.AUTHENTICATION.toPrivateData());
            }
        }
        RdmaChannel first = sessions.firstChannelOf(MultifdSession.fromConnect(privateData));
        if (first == null) {
            admission.rejected().accept(remote, "an extra channel for a migration this destination is not running");
            return RdmaAcceptDecision.reject(RejectReason.UNKNOWN_SESSION.toPrivateData());
        }
        open.incrementAndGet();
        // Only the source's RDMA WRITEs come over it: no control rings of 512 KiB slots to allocate and register.
        return RdmaAcceptDecision.acceptOneSidedSharingProtectionDomain(new byte[0], first);
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
