package io.livemig.transport.rdma.channel;

import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.CmEvent;
import io.livemig.transport.rdma.verbs.CmEventChannel;
import io.livemig.transport.rdma.verbs.CmId;
import io.livemig.transport.rdma.verbs.CompletionChannel;
import io.livemig.transport.rdma.verbs.CompletionQueue;
import io.livemig.transport.rdma.verbs.ConnectionParameters;
import io.livemig.transport.rdma.verbs.DeviceContext;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import io.livemig.transport.rdma.verbs.QueuePair;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.WcOpcode;
import io.livemig.transport.rdma.verbs.WcStatus;
import io.livemig.transport.rdma.verbs.WorkCompletion;
import io.netty.buffer.ByteBuf;
import io.netty.channel.AbstractChannel;
import io.netty.channel.ChannelMetadata;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.util.concurrent.Future;
import java.lang.foreign.MemorySegment;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.channels.AlreadyConnectedException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ConnectionPendingException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * A Netty channel over one reliable-connected queue pair, for an event loop of {@link RdmaIoHandler}s. Created by
 * {@code Bootstrap} (client: resolve, route, connect through rdma_cm) or by an {@link RdmaServerChannel} for each
 * accepted connection.
 *
 * <p>Outbound: a {@link ByteBuf} is copied into registered send slots and goes out as one SEND per
 * {@link RdmaChannelOption#RECEIVE_BUFFER_SIZE} bytes; it is released, and its promise completed, when the last SEND
 * completes. A direct {@code ByteBuf} of at most {@link RdmaChannelOption#RECEIVE_BUFFER_SIZE} readable bytes that lie
 * entirely in one region registered through {@link #registerMemory} (and not deregistered) is not copied: it goes out
 * as one SEND from its own memory and is likewise released, and its promise completed, when that SEND completes.
 * {@link RdmaWrite} and {@link RdmaRead} are one-sided operations whose promise completes on their work
 * completion, or fails with an {@link RdmaException} carrying the status. Inbound: each SEND fires
 * {@code channelRead} with a {@link ByteBuf} over the receive slot it landed in; the slot is posted again when the
 * buffer is released. Writability follows the outbound bytes (water marks) and the room in the send queue, send ring
 * and peer credits.
 *
 * <p>Close stops posting, moves the queue pair to ERR, fails pending writes with {@link ClosedChannelException},
 * and destroys the queue pair, completion queue, completion channel, memory regions, protection domain and
 * connection identifier, in that order, once every posted request has completed (its flush included).
 */
public final class RdmaChannel extends AbstractChannel {

    private static final ChannelMetadata METADATA = new ChannelMetadata(false, 16);
    private static final int BLOCKED_WRITABILITY_INDEX = 1;

    /**
     * Slot size, in bytes, of a channel for one-sided operations only ({@link RdmaChannelOption#ONE_SIDED},
     * {@link RdmaAcceptDecision#acceptOneSidedSharingProtectionDomain}); it also has one send slot and the fewest
     * receive slots the configuration allows.
     */
    public static final int ONE_SIDED_RING_SLOT = 64;
    /** The fewest receive slots a channel takes ({@link RdmaChannelOption#RECEIVE_BUFFER_COUNT}'s minimum). */
    private static final int ONE_SIDED_RECEIVE_SLOTS = 4;

    private enum State {
        /** Created; not connected. */
        OPEN,
        /** Connect or accept in progress. */
        CONNECTING,
        /** Established. */
        ACTIVE,
        /** Closed (resources may still await their flush completions). */
        CLOSED
    }

    private final RdmaChannelConfig config;
    private final RdmaServerChannel server;
    private final byte[] acceptPrivateData;
    /** An accepted channel whose protection domain this accepted one shares, or {@code null}. */
    private final RdmaChannel sharing;
    /** Accepted for one-sided operations only: the smallest rings, whatever the server's child options said. */
    private final boolean oneSided;
    private volatile State state = State.OPEN;
    private volatile byte[] peerPrivateData;
    /** An accepted channel's endpoint reference and identifier, until {@link #doRegister} hands them over. */
    private RdmaEndpoint acceptedEndpoint;
    private CmId acceptedId;
    /** Everything below Netty; created at registration. */
    private volatile RdmaConnection connection;
    private IoRegistration registration;
    private boolean handleRegistered;
    private boolean destroyed;
    private boolean readPending;
    /** The queue pair is in ERR with requests outstanding: close when their completions are in. */
    private boolean closeWhenDrained;
    private RdmaException completionFailure;
    private ChannelPromise connectPromise;
    private Future<?> connectTimeout;

    /** Creates a client channel; {@code Bootstrap} calls this. */
    public RdmaChannel() {
        super(null);
        this.oneSided = false;
        this.config = new RdmaChannelConfig(this);
        this.server = null;
        this.acceptPrivateData = null;
        this.peerPrivateData = new byte[0];
        this.sharing = null;
    }

    /** An accepted connection: the identifier of the CONNECT_REQUEST, accepted once the child is registered. */
    RdmaChannel(RdmaServerChannel server, RdmaEndpoint endpoint, CmId cmId, byte[] peerPrivateData,
                byte[] acceptPrivateData, RdmaChannel sharing, boolean oneSided) {
        super(server);
        this.sharing = sharing;
        this.oneSided = oneSided;
        this.config = new RdmaChannelConfig(this);
        this.server = server;
        this.acceptedEndpoint = endpoint;
        this.acceptedId = cmId;
        this.peerPrivateData = peerPrivateData.clone();
        this.acceptPrivateData = acceptPrivateData.clone();
    }

    @Override
    public RdmaChannelConfig config() {
        return config;
    }

    @Override
    public ChannelMetadata metadata() {
        return METADATA;
    }

    @Override
    public boolean isOpen() {
        return state != State.CLOSED;
    }

    @Override
    public boolean isActive() {
        return state == State.ACTIVE;
    }

    @Override
    public RdmaServerChannel parent() {
        return server;
    }

    @Override
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) super.localAddress();
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return (InetSocketAddress) super.remoteAddress();
    }

    /**
     * The private data the peer sent: for a client, with its accept; for an accepted channel, with its connect
     * request. On InfiniBand and RoCE it is zero-padded to the CM field's size (see
     * {@link io.livemig.transport.rdma.verbs.CmEvent}).
     *
     * @return a copy of the bytes, empty before the connection is up
     */
    public byte[] peerPrivateData() {
        return peerPrivateData.clone();
    }

    /**
     * Whether {@link #registerMemory} pins the pages it registers (see {@link DeviceContext#pinsRegisteredMemory()}):
     * a real adapter's provider does, the soft one does not.
     *
     * @return the device's answer; {@code true} before the channel is registered
     */
    public boolean pinsRegisteredMemory() {
        RdmaConnection current = connection;
        return current == null || current.endpoint().device().pinsRegisteredMemory();
    }

    /**
     * Registers memory in this connection's protection domain, for {@link RdmaWrite}/{@link RdmaRead} from or into it,
     * or for the peer to write into or read from with its rkey. The channel owns the region: it is deregistered when
     * the channel is destroyed (the application may deregister it earlier). The memory must outlive the region.
     * Callable from any thread once the channel is registered.
     *
     * <p>A direct {@link ByteBuf} written to the channel whose readable bytes lie in the region, and that fits one
     * SEND, is sent from the region without a copy; the application must not change those bytes until the write's
     * promise completes. Releasing such a buffer (the channel does once its SEND completes, or when it closes) does
     * not end the region, so memory a buffer owns must still outlive the region: retain the buffer, or register
     * memory that the buffer only wraps. A buffer in a region deregistered before it is posted is copied instead;
     * one deregistered while its SEND is in flight fails the write with an {@link RdmaException}.
     *
     * @param memory native memory
     * @param access the rights; {@code REMOTE_WRITE} and {@code REMOTE_READ} expose it to the peer
     * @return the region: its {@code address()} and {@code rkey()} are what the peer needs
     * @throws RdmaException when the channel is not registered or closed, or the provider refuses
     */
    public MemoryRegion registerMemory(MemorySegment memory, Set<AccessFlag> access) throws RdmaException {
        RdmaConnection current = connection;
        if (current == null || !isOpen()) {
            throw new RdmaException("the channel is " + (isOpen() ? "not registered" : "closed"), (Throwable) null);
        }
        try {
            return current.register(memory, access);
        } catch (VerbsException e) {
            throw new RdmaException("registering memory failed: " + e.getMessage(), e);
        }
    }

    /**
     * Visible for testing: how many SENDs went out from registered memory without a copy. Read on the event loop.
     */
    long registeredSends() {
        RdmaConnection current = connection;
        SendQueue sendQueue = current == null ? null : current.sendQueue();
        return sendQueue == null ? 0 : sendQueue.registeredSends();
    }

    @Override
    protected AbstractUnsafe newUnsafe() {
        return new RdmaUnsafe();
    }

    @Override
    protected boolean isCompatible(EventLoop loop) {
        return loop instanceof IoEventLoop ioLoop && ioLoop.isCompatible(RdmaUnsafe.class);
    }

    @Override
    protected SocketAddress localAddress0() {
        CmId id = cmId();
        return id == null ? null : id.localAddress();
    }

    @Override
    protected SocketAddress remoteAddress0() {
        CmId id = cmId();
        return id == null ? null : id.remoteAddress();
    }

    private CmId cmId() {
        RdmaConnection current = connection;
        return current == null ? acceptedId : current.cmId();
    }

    @Override
    protected void doRegister(ChannelPromise promise) {
        if (connection != null || destroyed) {
            promise.setFailure(new IllegalStateException("an RdmaChannel cannot be registered twice"));
            return;
        }
        try {
            connection = openConnection();
        } catch (Exception e) {
            promise.setFailure(e);
            return;
        }
        ((IoEventLoop) eventLoop()).register((RdmaUnsafe) unsafe()).addListener(future -> {
            if (!future.isSuccess()) {
                promise.setFailure(future.cause());
                return;
            }
            registration = (IoRegistration) future.getNow();
            if (server != null) {
                try {
                    accept();
                } catch (Exception e) {
                    // The request died while queued (its source gave up): the acceptor's forced close only closes,
                    // so deregister here, and unregistered() destroys the receive ring the connection registered.
                    registration.cancel();
                    promise.setFailure(e);
                    return;
                }
            }
            promise.setSuccess();
        });
    }

    /** Opens the endpoint (client) or takes the server's (accepted), then the connection's resources. */
    private RdmaConnection openConnection() throws VerbsException {
        if (oneSided || config.isOneSided()) {
            // After the bootstrap applied its options (an accepted channel's: the server's child options), before
            // the rings are made from them.
            config.setOption(RdmaChannelOption.RECEIVE_BUFFER_SIZE, ONE_SIDED_RING_SLOT);
            config.setOption(RdmaChannelOption.RECEIVE_BUFFER_COUNT, ONE_SIDED_RECEIVE_SLOTS);
            config.setOption(RdmaChannelOption.SEND_BUFFER_COUNT, 1); // 0 would mean one per queue entry
        }
        if (server != null) {
            RdmaConnection other = sharing == null ? null : sharing.connection;
            if (sharing != null && (other == null || !sharing.isOpen())) {
                throw new VerbsException("the channel whose protection domain this one shares is closed");
            }
            RdmaConnection opened = other == null ? RdmaConnection.open(acceptedEndpoint, acceptedId, config)
                    : RdmaConnection.openSharing(acceptedEndpoint, acceptedId, config, other);
            acceptedEndpoint = null;
            acceptedId = null;
            return opened;
        }
        RdmaEndpoint endpoint = RdmaEndpoint.open(config.getProvider());
        boolean success = false;
        try {
            RdmaConnection opened = RdmaConnection.open(endpoint, null, config);
            success = true;
            return opened;
        } finally {
            if (!success) {
                endpoint.release();
            }
        }
    }

    /** Accepted connection: receives are posted before the accept, so the peer's first SEND finds one. */
    private void accept() throws VerbsException {
        state = State.CONNECTING;
        connection.createQueuePair(registration, config);
        connection.cmId().accept(connectionParameters(acceptPrivateData));
    }

    private ConnectionParameters connectionParameters(byte[] privateData) {
        return new ConnectionParameters(privateData, 2, 2, config.getRetryCount(), config.getRnrRetryCount(),
                stepTimeout());
    }

    private Duration stepTimeout() {
        int millis = config.getConnectTimeoutMillis();
        return Duration.ofMillis(millis > 0 ? millis : 30_000);
    }

    @Override
    protected void doBind(SocketAddress localAddress) {
        throw new UnsupportedOperationException("an RdmaChannel binds when it connects");
    }

    @Override
    protected void doDisconnect() {
        // A reliable connection cannot be re-established: disconnecting is closing.
        unsafe().close(voidPromise());
    }

    @Override
    protected void doClose() {
        State previous = state;
        if (previous == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        if (connectTimeout != null) {
            connectTimeout.cancel(false);
            connectTimeout = null;
        }
        ChannelPromise pending = connectPromise;
        if (pending != null) {
            connectPromise = null;
            pending.tryFailure(new ClosedChannelException());
        }
        if (connection != null) {
            // QP to ERR: every posted request completes with a flush, after which the registration goes away.
            connection.stop();
        }
        if (!handleRegistered) {
            destroy();
        }
    }

    @Override
    protected void doDeregister() {
        if (registration != null) {
            registration.cancel();
        }
    }

    /** Destroys what the channel owns; runs once no posted request can complete any more. */
    private void destroy() {
        if (destroyed) {
            return;
        }
        destroyed = true;
        CmId id = cmId();
        RdmaConnection current = connection;
        if (current != null) {
            current.destroy();
        } else if (acceptedEndpoint != null) {
            // Accepted, but never registered: answer the request, then drop the server's endpoint.
            try {
                acceptedId.reject(new byte[0]);
            } catch (VerbsException e) {
                // Already answered.
            }
            acceptedId.close();
            acceptedEndpoint.release();
        }
        if (server != null) {
            server.childDestroyed(id);
        }
    }

    @Override
    protected void doBeginRead() {
        readPending = true;
        if (isActive()) {
            connection.receiveQueue().resume();
            deliverInbound();
            connection.sendQueue().postGrantIfDue();
        }
    }

    private boolean reading() {
        return readPending || config.isAutoRead();
    }

    private void deliverInbound() {
        ReceiveQueue receiveQueue = connection.receiveQueue();
        if (!reading() || !receiveQueue.hasInbound()) {
            return;
        }
        readPending = false;
        if (receiveQueue.deliver(pipeline(), config.getAllocator(), this::slotReleased)) {
            pipeline().fireChannelReadComplete();
        }
    }

    private void slotReleased(int slot) {
        EventLoop loop = eventLoop();
        if (loop.inEventLoop()) {
            connection.receiveQueue().released(slot, reading());
            return;
        }
        try {
            loop.execute(() -> slotReleased(slot));
        } catch (RejectedExecutionException e) {
            // The loop is gone, and the connection with it: only the ring's hold on its memory is left to drop.
            connection.resources().receiveRing().releaseHold();
        }
    }

    @Override
    protected Object filterOutboundMessage(Object msg) {
        if (msg instanceof ByteBuf || msg instanceof RdmaWrite || msg instanceof RdmaRead) {
            return msg;
        }
        throw new UnsupportedOperationException("unsupported message type: " + msg.getClass().getName()
                + " (expected ByteBuf, RdmaWrite or RdmaRead)");
    }

    @Override
    protected void doWrite(ChannelOutboundBuffer in) {
        if (state != State.ACTIVE) {
            return;
        }
        try {
            boolean blocked = connection.sendQueue().post(in);
            in.setUserDefinedWritability(BLOCKED_WRITABILITY_INDEX, !blocked);
        } catch (Exception e) {
            // A refused post leaves the queue pair in an unknown state: fail loudly and close.
            pipeline().fireExceptionCaught(e);
            unsafe().close(voidPromise());
        }
    }

    private void onCompletion(WorkCompletion wc) {
        int kind = WorkRequestId.kind(wc.wrId());
        WcStatus status = wc.status();
        connection.recorder().workCompletion(status == WcStatus.SUCCESS ? wc.opcode() : postedOpcode(kind), status);
        if (status != WcStatus.SUCCESS && status != WcStatus.WR_FLUSH_ERR && completionFailure == null) {
            completionFailure = new RdmaException("work completion " + wc, status);
        }
        if (kind == WorkRequestId.RECEIVE) {
            connection.receiveQueue().retired();
            if (status == WcStatus.SUCCESS) {
                connection.receiveQueue().completed(WorkRequestId.index(wc.wrId()), wc);
            }
        } else {
            connection.sendQueue().completed(kind, status, unsafe().outboundBuffer());
        }
        if (status != WcStatus.SUCCESS && isOpen() && completionFailure == null) {
            // A flush while open: the peer disconnected or the queue pair failed; the CM event may follow.
            completionFailure = new RdmaException("the queue pair entered the error state", status);
        }
    }

    /** The operation a request of this kind posted: verbs leaves a failed completion's opcode undefined. */
    private static WcOpcode postedOpcode(int kind) {
        return switch (kind) {
            case WorkRequestId.WRITE -> WcOpcode.RDMA_WRITE;
            case WorkRequestId.READ -> WcOpcode.RDMA_READ;
            case WorkRequestId.RECEIVE -> WcOpcode.RECV;
            default -> WcOpcode.SEND;
        };
    }

    /** End of a polling round: report failures, deliver receives, post what the completions made room for. */
    private void afterCompletions() {
        if (!isOpen()) {
            return;
        }
        // Receives that completed in this round come before, in RC order, the flushes that follow a disconnect:
        // deliver them first, or a peer's last message before it disconnects (a migration source's end of
        // stream) would be dropped with the close below.
        if (isActive()) {
            deliverInbound();
            if (!isOpen()) {
                return;
            }
        }
        if (completionFailure != null) {
            RdmaException failure = completionFailure;
            completionFailure = null;
            if (failure.status() == WcStatus.WR_FLUSH_ERR && !isActive()) {
                // Rejected or unreachable while connecting: the rdma_cm event that follows says which.
                return;
            }
            if (failure.status() != WcStatus.WR_FLUSH_ERR) {
                pipeline().fireExceptionCaught(failure);
            }
            // The queue pair is in ERR: every outstanding request completes, with its own status, before the close.
            closeWhenDrained();
        }
        if (!isActive()) {
            return;
        }
        SendQueue sendQueue = connection.sendQueue();
        if (closeWhenDrained) {
            if (sendQueue.outstanding() == 0) {
                unsafe().close(voidPromise());
            }
            return;
        }
        ChannelOutboundBuffer in = unsafe().outboundBuffer();
        if (sendQueue.hasUnposted(in)) {
            ((RdmaUnsafe) unsafe()).flushNow();
        } else if (in != null) {
            in.setUserDefinedWritability(BLOCKED_WRITABILITY_INDEX, true);
        }
        sendQueue.postGrantIfDue();
    }

    /**
     * The queue pair is in ERR (the peer disconnected, the link failed, or a request failed): close once every
     * outstanding send-queue request has completed, so each promise tells what happened to its own request; bounded,
     * as a provider that never flushed would otherwise keep the channel open.
     */
    private void closeWhenDrained() {
        SendQueue sendQueue = connection.sendQueue();
        if (sendQueue == null || sendQueue.outstanding() == 0) {
            unsafe().close(voidPromise());
            return;
        }
        if (!closeWhenDrained) {
            closeWhenDrained = true;
            eventLoop().schedule(() -> unsafe().close(voidPromise()), 1, TimeUnit.SECONDS);
        }
    }

    /** The connection is established: grant the receive window, go active. */
    private void activate(byte[] privateData) {
        peerPrivateData = privateData;
        state = State.ACTIVE;
        connection.credits().start(config.getReceiveBufferCount());
        connection.sendQueue().postGrantIfDue();
    }

    /** An rdma_cm event about this channel's identifier; for an accepted channel, forwarded by its server. */
    void onCmEvent(CmEvent event) {
        if (!isOpen()) {
            return;
        }
        CmId cmId = connection.cmId();
        try {
            switch (event.type()) {
                case ADDR_RESOLVED -> cmId.resolveRoute(stepTimeout());
                case ROUTE_RESOLVED -> {
                    connection.createQueuePair(registration, config);
                    cmId.connect(connectionParameters(config.getConnectPrivateData()));
                }
                case ESTABLISHED -> established(event);
                case REJECTED -> failConnect(new RdmaConnectionRejectedException("connection rejected by "
                        + hostPort(cmId.remoteAddress()) + ": " + RdmaConnectionRejectedException.describe(
                                event.status()), event.status(), event.privateData()));
                case DISCONNECTED -> closeWhenDrained();
                // The CM's own handshake timer (UNREACHABLE, ETIMEDOUT) is the same timeout as the channel's.
                default -> failConnect(event.status() == CmEvent.STATUS_TIMED_OUT
                        ? new ConnectTimeoutException("connection timed out (" + event.type() + "): "
                                + cmId.remoteAddress())
                        : event.status() == -io.livemig.transport.rdma.unix.Errno.EPROTO
                        // The soft provider's word for a peer that answered in another protocol altogether.
                        ? new java.net.ProtocolException(hostPort(cmId.remoteAddress()) + " does not speak the RDMA "
                                + "connection protocol (" + event.type() + ", EPROTO)")
                        : new ConnectException(event.type() + " (status " + event.status() + ") for "
                                + cmId.remoteAddress()));
            }
        } catch (VerbsException e) {
            ConnectException failure = new ConnectException("connecting failed: " + e.getMessage());
            failure.initCause(e);
            failConnect(failure);
        }
    }

    /** HOST:PORT without the "/" of InetSocketAddress.toString(). */
    private static String hostPort(InetSocketAddress address) {
        if (address == null) {
            return "the peer";
        }
        String host = address.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + address.getPort();
    }

    private void established(CmEvent event) {
        if (state != State.CONNECTING) {
            return;
        }
        if (server != null) {
            activate(peerPrivateData);
            pipeline().fireChannelActive();
            deliverInbound();
            return;
        }
        activate(event.privateData());
        ChannelPromise promise = connectPromise;
        connectPromise = null;
        if (connectTimeout != null) {
            connectTimeout.cancel(false);
            connectTimeout = null;
        }
        boolean promiseSet = promise != null && promise.trySuccess();
        pipeline().fireChannelActive();
        if (!promiseSet) {
            // Cancelled meanwhile: the user no longer wants this connection.
            unsafe().close(voidPromise());
        }
    }

    private void failConnect(Throwable cause) {
        if (state == State.ACTIVE) {
            pipeline().fireExceptionCaught(cause);
        }
        ChannelPromise promise = connectPromise;
        connectPromise = null;
        if (promise != null) {
            promise.tryFailure(cause);
        }
        unsafe().close(voidPromise());
    }

    /** The channel's unsafe is the {@link RdmaIoHandle} the event loop serves. */
    private final class RdmaUnsafe extends AbstractUnsafe implements RdmaIoHandle {

        @Override
        public void connect(SocketAddress remoteAddress, SocketAddress localAddress, ChannelPromise promise) {
            if (!promise.setUncancellable() || !ensureOpen(promise)) {
                return;
            }
            if (server != null || state == State.ACTIVE) {
                promise.setFailure(new AlreadyConnectedException());
                return;
            }
            if (state == State.CONNECTING) {
                promise.setFailure(new ConnectionPendingException());
                return;
            }
            if (!(remoteAddress instanceof InetSocketAddress remote)) {
                promise.setFailure(new IllegalArgumentException("not an InetSocketAddress: " + remoteAddress));
                return;
            }
            try {
                CmId cmId = connection.createId();
                state = State.CONNECTING;
                connectPromise = promise;
                cmId.resolveAddress(remote, stepTimeout());
            } catch (VerbsException e) {
                ConnectException failure = new ConnectException("connecting to " + remote + " failed: "
                        + e.getMessage());
                failure.initCause(e);
                failConnect(failure);
                return;
            }
            int timeoutMillis = config.getConnectTimeoutMillis();
            if (timeoutMillis > 0) {
                connectTimeout = eventLoop().schedule(() -> {
                    if (connectPromise != null) {
                        failConnect(new ConnectTimeoutException("connection timed out after " + timeoutMillis
                                + " ms: " + remote));
                    }
                }, timeoutMillis, TimeUnit.MILLISECONDS);
            }
        }

        void flushNow() {
            flush0();
        }

        @Override
        public CompletionChannel completionChannel() {
            return connection.resources().completionChannel();
        }

        @Override
        public List<CompletionQueue> completionQueues() {
            return List.of(connection.resources().cq());
        }

        @Override
        public CmEventChannel cmEventChannel() {
            // Accepted channels share their server's event channel; the server forwards their events.
            return server == null ? connection.endpoint().events() : null;
        }

        @Override
        public QueuePair queuePair() {
            return connection.queuePair();
        }

        @Override
        public void handle(IoRegistration registration, IoEvent ioEvent) {
            RdmaIoEvent event = (RdmaIoEvent) ioEvent;
            switch (event.kind()) {
                case COMPLETION -> onCompletion(event.completion());
                case COMPLETIONS_END -> afterCompletions();
                case CM_EVENTS -> takeCmEvents();
                default -> throw new IllegalArgumentException("unexpected " + event);
            }
        }

        private void takeCmEvents() {
            try {
                CmEvent event;
                while ((event = connection.endpoint().events().pollEvent()) != null) {
                    onCmEvent(event);
                }
            } catch (VerbsException e) {
                failConnect(e);
            }
        }

        @Override
        public void registered() {
            handleRegistered = true;
        }

        @Override
        public void unregistered() {
            handleRegistered = false;
            if (isOpen()) {
                // Deregistered while open (a broken queue): nothing can complete any more.
                state = State.CLOSED;
                connection.stop();
            }
            destroy();
        }

        @Override
        public void close() {
            close(voidPromise());
        }
    }

    @Override
    public String toString() {
        CmId id = cmId();
        RdmaConnection current = connection;
        SendQueue sendQueue = current == null ? null : current.sendQueue();
        return "RdmaChannel[" + state + ", " + (id == null ? "unconnected" : id.localAddress() + " -> "
                + id.remoteAddress()) + (sendQueue == null ? "" : ", " + sendQueue) + "]";
    }
}
