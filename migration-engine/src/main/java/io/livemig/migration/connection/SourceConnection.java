package io.livemig.migration.connection;

import io.livemig.migration.auth.AuthKey;
import io.livemig.migration.auth.AuthProof;
import io.livemig.migration.control.SourceControl;
import io.livemig.migration.protocol.Capabilities;
import io.livemig.migration.protocol.ProtocolException;
import io.livemig.migration.source.RdmaDataPath;
import io.livemig.transport.rdma.channel.RdmaChannel;
import io.livemig.transport.rdma.channel.RdmaChannelOption;
import io.livemig.transport.rdma.channel.RdmaConnectionRejectedException;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import io.livemig.transport.rdma.verbs.CmEvent;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.function.LongConsumer;
import io.livemig.migration.protocol.MultifdSession;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * The source's connection to a destination (spec section 2): an RC connection whose CM connect carries
 * the source's {@link Capabilities} and whose accept carries the destination's masked echo, with the
 * source's control endpoint in its pipeline. Pin-all stays on only if both ends have it; the source always offers
 * {@link Capabilities#LIVEMIG}, and only a livemig destination echoes it (a QEMU destination clears it).
 */
public final class SourceConnection implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(SourceConnection.class.getName());
    private static final SecureRandom NONCES = new SecureRandom();

    private final RdmaChannel channel;
    private final SourceControl control;
    private final Capabilities negotiated;
    private final boolean pinAllDowngraded;
    /** The extra channels ({@code multifd}) connected so far; only RDMA WRITEs use them. */
    private final List<RdmaChannel> extras = new CopyOnWriteArrayList<>();
    /** The WRITE path over the control channel and the extras as they join; {@code null} without multifd. */
    private StripedDataPath striped;
    /** Completes when every extra channel joined (at once without multifd), or fails with the first connect's cause. */
    private final Sinks.Empty<Void> extrasJoined = Sinks.empty();
    /** The extra channels' connects (as many as asked for), until {@link #connectExtras()} starts them. */
    private IntFunction<Flux<RdmaChannel>> pendingExtras;
    /** {@code multifd-channels} less the first connection: the most extra channels this connection may open. */
    private int offeredExtras;
    /** The extra channels' connects in progress, cancelled by a close. */
    private volatile Disposable extrasConnecting = Disposables.disposed();
    /** Set by the first close, under this connection's lock: an extra connecting after it is closed at once. */
    private boolean closed;

    private SourceConnection(RdmaChannel channel, SourceControl control, Capabilities negotiated,
            boolean pinAllDowngraded) {
        this.channel = channel;
        this.control = control;
        this.negotiated = negotiated;
        this.pinAllDowngraded = pinAllDowngraded;
    }

    /**
     * Connects to a destination without blocking: the RDMA CM exchange with the capabilities in private
     * data (spec section 2). Cancelling the subscription abandons the attempt and closes its channel.
     *
     * @param group event loops of an {@code RdmaIoHandler}
     * @param devices the RDMA provider
     * @param destination the destination's address
     * @param pinAll whether to ask for pin-all ({@code rdma-pin-all})
     * @param timeout connect timeout
     * @return the connection, or an {@link IOException} if the connection fails or the destination's reply
     *     is malformed
     */
    public static Mono<SourceConnection> connecting(EventLoopGroup group, RdmaDeviceFactory devices,
            InetSocketAddress destination, boolean pinAll, Duration timeout) {
        return connecting(group, devices, destination, pinAll, timeout, null);
    }

    /**
     * Connects as {@link #connecting(EventLoopGroup, RdmaDeviceFactory, InetSocketAddress, boolean, Duration)}
     * does, with a proof of {@code key} after the capabilities (a new timestamp and nonce per attempt).
     *
     * @param group event loops of an {@code RdmaIoHandler}
     * @param devices the RDMA provider
     * @param destination the destination's address
     * @param pinAll whether to ask for pin-all ({@code rdma-pin-all})
     * @param timeout connect timeout
     * @param key the shared key, or {@code null} to send the capabilities alone
     * @return the connection, or an {@link IOException} if the connection fails or the destination's reply
     *     is malformed
     */
    public static Mono<SourceConnection> connecting(EventLoopGroup group, RdmaDeviceFactory devices,
            InetSocketAddress destination, boolean pinAll, Duration timeout, AuthKey key) {
        return connecting(group, devices, destination, pinAll, timeout, key, 1);
    }

    /**
     * Connects as {@link #connecting(EventLoopGroup, RdmaDeviceFactory, InetSocketAddress, boolean, Duration,
     * AuthKey)} does and, with {@code channels} above 1, offers {@link Capabilities#MULTIFD}: when the destination
     * echoes it (a livemig destination that knows it), {@code channels - 1} extra connections are opened, each naming
     * the {@link MultifdSession} from the accept, and the {@link #dataPath()} stripes RDMA WRITEs across all of them.
     * The returned connection is ready once the first connection is; the extra ones are connected when
     * {@link #connectExtras()} says so and join its data path as they connect ({@link #extrasJoined()}), and a
     * failed extra connect fails the data path's later WRITEs with the connect's cause. A destination that clears
     * the bit (QEMU, or an older livemig) gets one connection.
     *
     * @param group event loops of an {@code RdmaIoHandler}
     * @param devices the RDMA provider
     * @param destination the destination's address
     * @param pinAll whether to ask for pin-all ({@code rdma-pin-all})
     * @param timeout connect timeout (per connection)
     * @param key the shared key, or {@code null} to send the capabilities alone
     * @param channels {@code multifd-channels} when the {@code multifd} capability is on, else 1
     * @return the connection, or an {@link IOException} if a connection fails or the destination's reply
     *     is malformed
     */
    public static Mono<SourceConnection> connecting(EventLoopGroup group, RdmaDeviceFactory devices,
            InetSocketAddress destination, boolean pinAll, Duration timeout, AuthKey key, int channels) {
        return first(group, devices, destination, pinAll, timeout, key, channels > 1).flatMap(connection -> {
            MultifdSession session = MultifdSession.fromAccept(connection.channel.peerPrivateData());
            if (channels <= 1 || !connection.negotiated.multifd() || session == null) {
                connection.extrasJoined.tryEmitEmpty();
                return Mono.just(connection);
            }
            // Not waited for: the migration starts on the control channel and the extras join its WRITE path as
            // their connects complete, once connectExtras() starts them (StripedDataPath says why).
            connection.striped = new StripedDataPath(connection.channel);
            connection.offeredExtras = channels - 1;
            connection.pendingExtras = count -> Flux.range(1, count)
                    .flatMap(i -> extra(group, devices, destination, timeout, key, session));
            return Mono.just(connection);
        });
    }

    /**
     * Starts the extra channels' connects ({@code multifd}); each joins the {@link #dataPath()} when its connect
     * completes. The source calls this when the migration's setup is done: the setup is a chain of control
     * exchanges on the first connection, and connects beside it (threads, queue pairs, rings at both ends) only
     * slow it down, while the bulk round is where the extra channels pay off. Idempotent; does nothing without
     * multifd or after a close.
     *
     * @return {@link #extrasJoined()}
     */
    public Mono<Void> connectExtras() {
        return connectExtras(Integer.MAX_VALUE);
    }

    /**
     * Starts at most {@code count} of the extra channels' connects, as {@link #connectExtras()} starts all of them;
     * the others are never opened. The source asks for fewer where its RAM is too small for a channel to pay for its
     * connect (see {@code SourceController.Builder.multifdChannelBytes}).
     *
     * @param count the most extra channels to open; 0 opens none (and {@link #extrasJoined()} completes)
     * @return {@link #extrasJoined()}
     */
    public Mono<Void> connectExtras(int count) {
        if (count < 0) {
            throw new IllegalArgumentException("count must be >= 0: " + count);
        }
        synchronized (this) {
            IntFunction<Flux<RdmaChannel>> connects = pendingExtras;
            pendingExtras = null;
            if (connects == null || closed) {
                return extrasJoined();
            }
            int opened = Math.min(count, offeredExtras);
            if (opened == 0) {
                extrasJoined.tryEmitEmpty();
                return extrasJoined();
            }
            extrasConnecting = connects.apply(opened)
                    .subscribe(this::join, this::extraFailed, extrasJoined::tryEmitEmpty);
        }
        return extrasJoined();
    }

    /** A connected extra channel joins the WRITE path, unless the connection closed meanwhile. */
    private void join(RdmaChannel extra) {
        synchronized (this) {
            if (!closed) {
                extras.add(extra);
                striped.join(extra);
                return;
            }
        }
        extra.close();
    }

    /** An extra channel could not connect: the migration's later WRITEs fail with the cause. */
    private void extraFailed(Throwable cause) {
        synchronized (this) {
            if (closed) {
                return;
            }
        }
        LOG.log(System.Logger.Level.WARNING, "an extra channel (multifd) could not connect: " + cause.getMessage());
        striped.fail(cause);
        extrasJoined.tryEmitError(cause);
    }

    /**
     * Where the lengths of the RDMA WRITEs completed on the extra channels go ({@code multifd-bytes}); nothing
     * without multifd.
     *
     * @param consumer told each completed WRITE's length, from the thread that completed it
     */
    public void onMultifdBytes(LongConsumer consumer) {
        if (striped != null) {
            striped.onExtraChannelBytes(consumer);
        }
    }

    /**
     * Completes when every extra channel ({@code multifd}) joined the WRITE path: at once without multifd, never
     * before {@link #connectExtras()}. The migration does not wait for it (its WRITEs stripe over the channels joined
     * so far); tests and diagnostics do.
     *
     * @return completes once all joined, or fails with the first extra connect's failure
     */
    public Mono<Void> extrasJoined() {
        return extrasJoined.asMono();
    }

    /** An extra channel: only RDMA WRITEs go over it, so its pipeline has nothing but a sink for stray reads. */
    private static Mono<RdmaChannel> extra(EventLoopGroup group, RdmaDeviceFactory devices,
            InetSocketAddress destination, Duration timeout, AuthKey key, MultifdSession session) {
        return Mono.create(sink -> {
            Bootstrap bootstrap = new Bootstrap().group(group).channel(RdmaChannel.class)
                    .option(RdmaChannelOption.CONNECT_PRIVATE_DATA, privateData(session.toBytes(), key))
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()))
                    .handler(new io.netty.channel.ChannelInboundHandlerAdapter());
            MigrationChannelOptions.applyToExtraChannel(bootstrap, devices);
            ChannelFuture future = bootstrap.connect(destination);
            sink.onCancel(() -> future.channel().close());
            future.addListener(f -> {
                if (f.isSuccess()) {
                    sink.success((RdmaChannel) future.channel());
                } else {
                    sink.error(connectFailure(destination, f.cause()));
                }
            });
        });
    }

    private static Mono<SourceConnection> first(EventLoopGroup group, RdmaDeviceFactory devices,
            InetSocketAddress destination, boolean pinAll, Duration timeout, AuthKey key, boolean multifd) {
        return Mono.create(sink -> {
            Capabilities offer = Capabilities.livemigOffer(pinAll, multifd);
            SourceControl control = new SourceControl();
            Bootstrap bootstrap = new Bootstrap().group(group).channel(RdmaChannel.class)
                    .option(RdmaChannelOption.CONNECT_PRIVATE_DATA, privateData(offer.toBytes(), key))
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()))
                    .handler(control);
            MigrationChannelOptions.apply(bootstrap, devices);
            ChannelFuture future = bootstrap.connect(destination);
            sink.onCancel(() -> future.channel().close());
            future.addListener(f -> {
                if (!f.isSuccess()) {
                    sink.error(connectFailure(destination, f.cause()));
                    return;
                }
                RdmaChannel channel = (RdmaChannel) future.channel();
                try {
                    Capabilities reply = checkedReply(channel.peerPrivateData());
                    Capabilities negotiated = offer.negotiateAsSource(reply);
                    boolean downgraded = offer.pinAll() && !negotiated.pinAll();
                    if (downgraded) {
                        // QEMU prints a warning and falls back to dynamic registration; so does livemig.
                        LOG.log(System.Logger.Level.WARNING, "destination " + destination
                                + " does not support pin-all; falling back to dynamic chunk registration");
                    }
                    sink.success(new SourceConnection(channel, control, negotiated, downgraded));
                } catch (ProtocolException e) {
                    channel.close();
                    sink.error(SourceFailure.notAPeer(describe(destination), "the capabilities in its accept are "
                            + e.getMessage(), e));
                }
            });
        });
    }

    /**
     * The destination's capabilities: version 1, or nothing at all (fewer than 8 bytes, or zeros as InfiniBand pads
     * an accept without private data: a destination that cannot read them, docs/disni-provider.md). Any other
     * version is no QEMU or livemig destination.
     */
    private static Capabilities checkedReply(byte[] privateData) {
        Capabilities reply = Capabilities.echoed(privateData);
        if (reply.version() != Capabilities.CURRENT_VERSION && !(reply.version() == 0 && reply.flags() == 0)) {
            throw new ProtocolException(io.livemig.migration.protocol.ProtocolError.UNSUPPORTED_VERSION,
                    "version " + Integer.toUnsignedString(reply.version()) + ", not 1");
        }
        return reply;
    }

    /**
     * The 8 leading bytes (the capabilities, or an extra channel's session id), followed by the rest of a fresh
     * proof over them when there is a key.
     */
    private static byte[] privateData(byte[] leading, AuthKey key) {
        if (key == null) {
            return leading;
        }
        byte[] nonce = new byte[AuthProof.NONCE_BYTES];
        NONCES.nextBytes(nonce);
        return AuthProof.sign(key, leading, System.currentTimeMillis(), nonce).toBytes();
    }

    /**
     * The capabilities both ends run with.
     *
     * @return the negotiated capabilities
     */
    public Capabilities capabilities() {
        return negotiated;
    }

    /**
     * Whether pin-all was asked for and the destination cleared it.
     *
     * @return true after a downgrade
     */
    public boolean pinAllDowngraded() {
        return pinAllDowngraded;
    }

    /**
     * The source's control endpoint.
     *
     * @return the endpoint
     */
    public SourceControl control() {
        return control;
    }

    /**
     * Registration and RDMA WRITE on this connection.
     *
     * @return the data path
     */
    public RdmaDataPath dataPath() {
        return striped != null ? striped : new RdmaChannelDataPath(channel);
    }

    /**
     * How many connections carry RDMA WRITEs now: 1, and up to {@code multifd-channels} as the extra channels join
     * when the destination took multifd (see {@link #extrasJoined()}).
     *
     * @return the channel count
     */
    public int channelCount() {
        return 1 + extras.size();
    }

    /**
     * The underlying channel.
     *
     * @return the channel
     */
    public RdmaChannel channel() {
        return channel;
    }

    /** Disconnects (idempotent); the channel releases its registrations. Blocks: not on an event loop. */
    @Override
    public void close() {
        closeAsync();
        channel.closeFuture().awaitUninterruptibly(10, TimeUnit.SECONDS);
        for (RdmaChannel extra : extras) {
            extra.closeFuture().awaitUninterruptibly(10, TimeUnit.SECONDS);
        }
    }

    /** Starts closing every channel, the extra ones first (their writes are flushed), then the control channel. */
    private void closeAsync() {
        synchronized (this) {
            closed = true;
            pendingExtras = null;
        }
        // A connect still in progress is abandoned and its channel closed (extra()'s cancel).
        extrasConnecting.dispose();
        extrasJoined.tryEmitError(new ClosedChannelException());
        for (RdmaChannel extra : extras) {
            extra.close();
        }
        channel.close();
    }

    /**
     * Disconnects without blocking (idempotent): work requests still posted are flushed; completes after at
     * most 10 s, as {@link #close()} waits at most that long.
     *
     * @return completes when the channel is closed
     */
    public Mono<Void> closing() {
        // Bounded as the blocking close() is: over a link cut without a reset the flush of posted requests
        // may never come, and a failed migration must still end.
        return Mono.defer(() -> {
                    closeAsync();
                    return Flux.concat(Flux.fromIterable(List.copyOf(extras)), Mono.just(channel))
                            .flatMap(c -> Mono.<Void>create(sink -> c.closeFuture().addListener(f -> sink.success())))
                            .then();
                })
                .timeout(java.time.Duration.ofSeconds(10), reactor.core.scheduler.Schedulers.parallel())
                .onErrorResume(java.util.concurrent.TimeoutException.class, e -> reactor.core.publisher.Mono.empty());
    }

    /**
     * The reason a connect failed, for the operator: a port nobody listens on is the common mistake (the
     * destination not started yet, or on another port) and gets a sentence of its own; other rejects and
     * failures name the address and the cause.
     */
    static SourceFailure connectFailure(InetSocketAddress destination, Throwable cause) {
        String where = describe(destination);
        if (cause instanceof RdmaConnectionRejectedException rejected) {
            if (rejected.nothingListening()) {
                return SourceFailure.nothingListening(where, cause);
            }
            RejectReason reason = RejectReason.read(rejected.privateData());
            if (reason == RejectReason.AUTHENTICATION) {
                return SourceFailure.rejectedAuthentication(where, cause);
            }
            if (reason == RejectReason.BUSY) {
                return SourceFailure.rejected("the destination at " + where + " is busy with another migration", cause);
            }
            if (reason == RejectReason.UNKNOWN_SESSION) {
                return SourceFailure.rejected("the destination at " + where + " refused an extra channel: it runs no"
                        + " migration with that multifd session", cause);
            }
            if (reason == RejectReason.CAPABILITIES) {
                return SourceFailure.rejected("the destination at " + where + " rejected the connection: unsupported "
                        + "RDMA capabilities", cause);
            }
            if (rejected.reason() == CmEvent.REJECT_CONSUMER_DEFINED) {
                // The destination's acceptor said no: livemig's does for capabilities it cannot read.
                return SourceFailure.rejected("the destination at " + where + " refused the connection (reject reason "
                        + rejected.reason() + ")", cause);
            }
            return SourceFailure.rejected("cannot connect to " + where + ": rejected: "
                    + RdmaConnectionRejectedException.describe(rejected.reason()), cause);
        }
        if (cause instanceof java.net.ProtocolException) {
            return SourceFailure.notAPeer(where, "it does not speak the RDMA connection protocol", cause);
        }
        if (cause instanceof ConnectTimeoutException) {
            // The channel words it "connection timed out after N ms: /ADDRESS"; the address is said once, as typed.
            String message = String.valueOf(cause.getMessage());
            int colon = message.indexOf(": ");
            return SourceFailure.classify(new IOException(where + " did not answer the connect request ("
                    + (colon < 0 ? message : message.substring(0, colon)) + ")", cause), where, false);
        }
        return SourceFailure.classify(new IOException("cannot connect to " + where + ": " + cause.getMessage(), cause),
                where, false);
    }

    /** HOST:PORT as the user wrote it (an unresolved address prints as "host/<unresolved>:port"). */
    private static String describe(java.net.InetSocketAddress address) {
        String host = address.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + address.getPort();
    }
}
