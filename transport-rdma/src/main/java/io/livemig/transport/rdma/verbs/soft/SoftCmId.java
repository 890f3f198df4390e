package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.verbs.CmEvent;
import io.livemig.transport.rdma.verbs.CmEventType;
import io.livemig.transport.rdma.verbs.CmId;
import io.livemig.transport.rdma.verbs.CompletionQueue;
import io.livemig.transport.rdma.verbs.ConnectionParameters;
import io.livemig.transport.rdma.verbs.InvalidStateException;
import io.livemig.transport.rdma.verbs.ProtectionDomain;
import io.livemig.transport.rdma.verbs.QpInitAttributes;
import io.livemig.transport.rdma.verbs.QueuePair;
import io.livemig.transport.rdma.verbs.VerbsException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A soft rdma_cm identifier: the connection handshake of the IB CM (REQ → REP → RTU, REJ, DREQ → DREP; IB spec
 * chapter 12) run over the connection's own wire, and the router of its RC packets to the queue pair. All state
 * changes happen under this object's monitor; events go to the identifier's channel.
 */
final class SoftCmId implements CmId, Wire.WireHandler {

    /** How long a disconnecting side waits for the DREP before it reports DISCONNECTED anyway. */
    static final Duration DREP_TIMEOUT = Duration.ofSeconds(1);
    /** How long an accepted wire may stay silent before its REQ arrives. */
    static final Duration REQ_TIMEOUT = Duration.ofSeconds(10);

    /** Status of ADDR_ERROR when the name does not resolve: {@code -EHOSTUNREACH}. */
    private static final int STATUS_HOST_UNREACHABLE = -113;

    private final SoftDevice device;
    private final SoftCmEventChannel channel;
    private final SoftCmId listenId;
    private CmState state;
    private InetSocketAddress localAddress;
    private InetSocketAddress remoteAddress;
    private SoftQueuePair qp;
    private Wire wire;
    private Fabric.Listener listener;
    private AutoCloseable pendingConnect;
    private ConnectionParameters parameters;
    private ScheduledFuture<?> timer;
    private long peerInitialPsn;
    /** Listening side: the listen backlog, the most accepted connections still waiting for their REQ. */
    private int backlog;
    /**
     * Listening side: accepted connections whose REQ has not arrived (each holds a socket and two threads), oldest
     * first, and their count (the deque's own size() walks it).
     */
    private final java.util.concurrent.ConcurrentLinkedDeque<SoftCmId> awaiting =
            new java.util.concurrent.ConcurrentLinkedDeque<>();
    private final AtomicInteger awaitingRequest = new AtomicInteger();

    SoftCmId(SoftDevice device, SoftCmEventChannel channel) {
        this(device, channel, null, CmState.IDLE);
    }

    private SoftCmId(SoftDevice device, SoftCmEventChannel channel, SoftCmId listenId, CmState state) {
        this.device = device;
        this.channel = channel;
        this.listenId = listenId;
        this.state = state;
    }

    // ---- active side ----------------------------------------------------------------------------------------

    @Override
    public synchronized void resolveAddress(InetSocketAddress destination, Duration timeout) throws VerbsException {
        state.require("rdma_resolve_addr", CmState.IDLE);
        if (!destination.isUnresolved()) {
            onResolved(destination);
            return;
        }
        // A host name needs the system resolver, which may block: resolve on a thread, bounded by the timeout.
        state = CmState.RESOLVING_ADDR;
        timer = device.schedule(timeout, this::onHandshakeTimeout);
        SoftThreads.start("resolve", () -> {
            InetSocketAddress resolved = new InetSocketAddress(destination.getHostString(), destination.getPort());
            synchronized (this) {
                if (state == CmState.RESOLVING_ADDR) {
                    cancelTimer();
                    onResolved(resolved);
                }
            }
        });
    }

    private void onResolved(InetSocketAddress resolved) {
        if (resolved.isUnresolved()) {
            state = CmState.IDLE;
            emit(CmEventType.ADDR_ERROR, null, STATUS_HOST_UNREACHABLE);
            return;
        }
        remoteAddress = resolved;
        state = CmState.ADDR_RESOLVED;
        emit(CmEventType.ADDR_RESOLVED, null, 0);
    }

    @Override
    public synchronized void resolveRoute(Duration timeout) throws VerbsException {
        state.require("rdma_resolve_route", CmState.ADDR_RESOLVED);
        state = CmState.ROUTE_RESOLVED;
        emit(CmEventType.ROUTE_RESOLVED, null, 0);
    }

    @Override
    public synchronized void connect(ConnectionParameters connectionParameters) throws VerbsException {
        state.require("rdma_connect", CmState.ROUTE_RESOLVED);
        checkPrivateData("rdma_connect", connectionParameters);
        if (qp == null) {
            throw new InvalidStateException("rdma_connect: no queue pair; call createQueuePair first");
        }
        parameters = connectionParameters;
        state = CmState.CONNECTING;
        timer = device.schedule(connectionParameters.timeout(), this::onHandshakeTimeout);
        pendingConnect = device.fabric().connect(remoteAddress, connectionParameters.timeout(),
                new Fabric.ConnectCallback() {
                    @Override
                    public void connected(Wire connected) {
                        onConnected(connected);
                    }

                    @Override
                    public void refused(String reason) {
                        onConnectFailed(CmEventType.REJECTED, CmEvent.REJECT_INVALID_SERVICE_ID);
                    }

                    @Override
                    public void unreachable(String reason) {
                        onConnectFailed(CmEventType.UNREACHABLE, CmEvent.STATUS_TIMED_OUT);
                    }
                });
    }

    private synchronized void onConnected(Wire connected) {
        pendingConnect = null;
        if (state != CmState.CONNECTING) {
            connected.abort();
            return;
        }
        wire = connected;
        localAddress = connected.localAddress();
        connected.start(this);
        connected.send(new Frame.CmMessage(Frame.CmMessageType.REQ, qp.qpNumber(), qp.initialPsn(), 0,
                parameters.privateData()), Gather.EMPTY);
    }

    private synchronized void onConnectFailed(CmEventType type, int status) {
        pendingConnect = null;
        if (state == CmState.CONNECTING) {
            fail(type, status, null);
        }
    }

    // ---- passive side ---------------------------------------------------------------------------------------

    @Override
    public synchronized void listen(InetSocketAddress address, int backlog) throws VerbsException {
        state.require("rdma_listen", CmState.IDLE);
        try {
            this.backlog = Math.max(1, backlog);
            listener = device.fabric().listen(address, this::onAccepted);
        } catch (IOException e) {
            // The caller says what it could not do, and where; this says what failed, as rdma-core's errno would.
            throw new VerbsException("rdma_bind_addr failed: " + e.getMessage(), e);
        }
        localAddress = listener.localAddress();
        state = CmState.LISTENING;
    }

    private void onAccepted(Wire accepted) {
        // As a kernel's listen backlog bounds half-open connections: peers that connect and never send a REQ would
        // otherwise cost a socket and two threads each for REQ_TIMEOUT, without limit. When the backlog is full the
        // OLDEST waiting connection goes, not the new one: a CM client sends its REQ as soon as it is connected, so
        // the one that has waited longest is the likeliest stranger, and a flood of idle connections cannot lock
        // a real source out for REQ_TIMEOUT (SoakTest found that it did when the newest was dropped).
        // Only the fabric's accept thread runs this, so the count cannot be raised past the backlog concurrently.
        while (awaitingRequest.get() >= backlog) {
            SoftCmId oldest = awaiting.peekFirst();
            if (oldest != null) {
                oldest.shedWhileAwaitingRequest();
            }
        }
        SoftCmId child = new SoftCmId(device, channel, this, CmState.AWAITING_REQUEST);
        synchronized (child) {
            child.wire = accepted;
            child.localAddress = accepted.localAddress();
            child.remoteAddress = accepted.remoteAddress();
            awaitingRequest.incrementAndGet();
            awaiting.addLast(child);
            child.timer = device.schedule(REQ_TIMEOUT, child::onHandshakeTimeout);
        }
        channel.adopt(child);
        accepted.start(child);
    }

    /** Dropped by its listener to make room (see onAccepted); a no-op once its REQ arrived or it failed. */
    private synchronized void shedWhileAwaitingRequest() {
        if (state == CmState.AWAITING_REQUEST) {
            cancelTimer();
            requestArrivedOrGaveUp();
            wire.abort();
            state = CmState.FAILED;
        }
        // Otherwise its REQ arrived or it failed: requestArrivedOrGaveUp took it out of the deque already.
    }

    @Override
    public synchronized void accept(ConnectionParameters connectionParameters) throws VerbsException {
        state.require("rdma_accept", CmState.REQUEST_RECEIVED);
        checkPrivateData("rdma_accept", connectionParameters);
        if (qp == null) {
            throw new InvalidStateException("rdma_accept: no queue pair; call createQueuePair first");
        }
        parameters = connectionParameters;
        // RTR before the REP leaves: the peer may send as soon as it has the REP (rdma_accept does the same).
        qp.readyToReceive(wire, peerInitialPsn);
        state = CmState.ACCEPTING;
        timer = device.schedule(connectionParameters.timeout(), this::onHandshakeTimeout);
        wire.send(new Frame.CmMessage(Frame.CmMessageType.REP, qp.qpNumber(), qp.initialPsn(), 0,
                connectionParameters.privateData()), Gather.EMPTY);
    }

    @Override
    public synchronized void reject(byte[] privateData) throws VerbsException {
        state.require("rdma_reject", CmState.REQUEST_RECEIVED);
        if (privateData != null && privateData.length > device.attributes().maxPrivateData()) {
            throw new VerbsException("rdma_reject: private data of " + privateData.length + " bytes exceeds "
                    + device.attributes().maxPrivateData());
        }
        wire.send(new Frame.CmMessage(Frame.CmMessageType.REJ, 0, 0, CmEvent.REJECT_CONSUMER_DEFINED, privateData),
                Gather.EMPTY);
        wire.close();
        state = CmState.FAILED;
    }

    // ---- both sides -----------------------------------------------------------------------------------------

    @Override
    public synchronized QueuePair createQueuePair(ProtectionDomain pd, QpInitAttributes attributes)
            throws VerbsException {
        state.require("rdma_create_qp", CmState.ADDR_RESOLVED, CmState.ROUTE_RESOLVED, CmState.REQUEST_RECEIVED);
        if (qp != null) {
            throw new InvalidStateException("rdma_create_qp: the identifier already has queue pair " + qp.qpNumber());
        }
        if (!(pd instanceof SoftProtectionDomain softPd) || softPd.device() != device) {
            throw new VerbsException("rdma_create_qp: the protection domain belongs to another device");
        }
        checkQueue(attributes.sendCq());
        checkQueue(attributes.receiveCq());
        qp = device.newQueuePair(softPd, attributes);
        return qp;
    }

    private static void checkQueue(CompletionQueue cq) throws VerbsException {
        if (!(cq instanceof SoftCompletionQueue)) {
            throw new VerbsException("rdma_create_qp: the completion queue belongs to another provider");
        }
    }

    @Override
    public synchronized QueuePair queuePair() {
        return qp;
    }

    @Override
    public synchronized void disconnect() {
        switch (state) {
            case CONNECTED -> {
                // rdma_disconnect: QP to ERR (flushing), DREQ to the peer, DISCONNECTED when the DREP arrives.
                qp.enterError();
                wire.send(Frame.CmMessage.of(Frame.CmMessageType.DREQ), Gather.EMPTY);
                state = CmState.DISCONNECTING;
                timer = device.schedule(DREP_TIMEOUT, this::onHandshakeTimeout);
            }
            case CONNECTING, ACCEPTING -> fail(state == CmState.CONNECTING ? CmEventType.UNREACHABLE
                    : CmEventType.CONNECT_ERROR, -104, null);
            default -> { }
        }
    }

    @Override
    public synchronized InetSocketAddress localAddress() {
        return localAddress;
    }

    @Override
    public synchronized InetSocketAddress remoteAddress() {
        return remoteAddress;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (state == CmState.CLOSED) {
                return;
            }
            if (state == CmState.AWAITING_REQUEST) {
                requestArrivedOrGaveUp();
            }
            switch (state) {
                case CONNECTED -> wire.send(Frame.CmMessage.of(Frame.CmMessageType.DREQ), Gather.EMPTY);
                case REQUEST_RECEIVED -> wire.send(new Frame.CmMessage(Frame.CmMessageType.REJ, 0, 0,
                        CmEvent.REJECT_CONSUMER_DEFINED, null), Gather.EMPTY);
                default -> { }
            }
            state = CmState.CLOSED;
            cancelTimer();
            if (wire != null) {
                wire.close();
            }
            closeQuietly(pendingConnect);
            if (listener != null) {
                listener.close();
            }
            if (qp != null) {
                qp.close();
            }
        }
        channel.forget(this);
    }

    // ---- wire events ----------------------------------------------------------------------------------------

    @Override
    public void onFrame(Frame frame, Payload payload) {
        if (frame instanceof Frame.CmMessage message) {
            onCmMessage(message);
            return;
        }
        SoftQueuePair target;
        synchronized (this) {
            target = qp;
        }
        if (target != null) {
            target.onFrame(frame, payload);
        }
    }

    private synchronized void onCmMessage(Frame.CmMessage message) {
        switch (message.type()) {
            case REQ -> {
                if (state == CmState.AWAITING_REQUEST) {
                    cancelTimer();
                    requestArrivedOrGaveUp();
                    peerInitialPsn = message.initialPsn();
                    state = CmState.REQUEST_RECEIVED;
                    channel.emit(new CmEvent(CmEventType.CONNECT_REQUEST, this, listenId, message.privateData(), 0));
                }
            }
            case REP -> {
                if (state == CmState.CONNECTING) {
                    cancelTimer();
                    qp.readyToReceive(wire, message.initialPsn());
                    qp.readyToSend(parameters.retryCount(), parameters.rnrRetryCount());
                    wire.send(Frame.CmMessage.of(Frame.CmMessageType.RTU), Gather.EMPTY);
                    state = CmState.CONNECTED;
                    emit(CmEventType.ESTABLISHED, message.privateData(), 0);
                }
            }
            case RTU -> {
                if (state == CmState.ACCEPTING) {
                    cancelTimer();
                    qp.readyToSend(parameters.retryCount(), parameters.rnrRetryCount());
                    state = CmState.CONNECTED;
                    emit(CmEventType.ESTABLISHED, message.privateData(), 0);
                }
            }
            case REJ -> {
                if (state == CmState.CONNECTING) {
                    fail(CmEventType.REJECTED, message.status(), message.privateData());
                }
            }
            case DREQ -> {
                if (state == CmState.CONNECTED || state == CmState.DISCONNECTING) {
                    cancelTimer();
                    state = CmState.DISCONNECTED;
                    qp.enterError(() -> emit(CmEventType.DISCONNECTED, null, 0));
                    wire.send(Frame.CmMessage.of(Frame.CmMessageType.DREP), Gather.EMPTY);
                    wire.close();
                }
            }
            case DREP -> {
                if (state == CmState.DISCONNECTING) {
                    cancelTimer();
                    wire.close();
                    state = CmState.DISCONNECTED;
                    emit(CmEventType.DISCONNECTED, null, 0);
                }
            }
        }
    }

    @Override
    public synchronized void onWireDown(String reason) {
        switch (state) {
            // What answered the connect does not speak the soft wire (a plain TCP server): EPROTO, not a reset.
            case CONNECTING -> fail(CmEventType.UNREACHABLE, reason.contains(FrameCodec.NOT_A_SOFT_FRAME)
                    ? -io.livemig.transport.rdma.unix.Errno.EPROTO : -104, null);
            case ACCEPTING -> fail(CmEventType.CONNECT_ERROR, -104, null);
            case AWAITING_REQUEST, REQUEST_RECEIVED -> {
                cancelTimer();
                if (state == CmState.AWAITING_REQUEST) {
                    requestArrivedOrGaveUp();
                }
                state = CmState.FAILED;
            }
            case CONNECTED, DISCONNECTING -> {
                cancelTimer();
                state = CmState.DISCONNECTED;
                qp.onLinkFailure(() -> emit(CmEventType.DISCONNECTED, null, 0));
            }
            default -> { }
        }
    }

    private synchronized void onHandshakeTimeout() {
        timer = null;
        switch (state) {
            case RESOLVING_ADDR -> {
                state = CmState.IDLE;
                emit(CmEventType.ADDR_ERROR, null, CmEvent.STATUS_TIMED_OUT);
            }
            case CONNECTING -> fail(CmEventType.UNREACHABLE, CmEvent.STATUS_TIMED_OUT, null);
            case ACCEPTING -> fail(CmEventType.CONNECT_ERROR, CmEvent.STATUS_TIMED_OUT, null);
            case AWAITING_REQUEST -> {
                requestArrivedOrGaveUp();
                wire.abort();
                state = CmState.FAILED;
            }
            case DISCONNECTING -> {
                wire.abort();
                state = CmState.DISCONNECTED;
                emit(CmEventType.DISCONNECTED, null, 0);
            }
            default -> { }
        }
    }

    /** Ends a handshake that failed: the wire is dropped, the event is reported and the queue pair flushed. */
    private void fail(CmEventType type, int status, byte[] privateData) {
        cancelTimer();
        closeQuietly(pendingConnect);
        pendingConnect = null;
        if (wire != null) {
            wire.abort();
        }
        state = CmState.FAILED;
        if (qp != null) {
            qp.enterError(() -> emit(type, privateData, status));
        } else {
            emit(type, privateData, status);
        }
    }

    /** Listening side: accepted connections still waiting for their REQ (for tests). */
    int awaitingRequest() {
        return awaitingRequest.get();
    }

    /** An accepted connection leaves AWAITING_REQUEST: it no longer counts against its listener's backlog. */
    private void requestArrivedOrGaveUp() {
        if (listenId != null && listenId.awaiting.remove(this)) {
            listenId.awaitingRequest.decrementAndGet();
        }
    }

    private void emit(CmEventType type, byte[] privateData, int status) {
        channel.emit(new CmEvent(type, this, null, privateData, status));
    }

    private void checkPrivateData(String operation, ConnectionParameters connectionParameters)
            throws VerbsException {
        int length = connectionParameters.privateData().length;
        if (length > device.attributes().maxPrivateData()) {
            throw new VerbsException(operation + ": private data of " + length + " bytes exceeds "
                    + device.attributes().maxPrivateData() + " bytes");
        }
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private static void closeQuietly(AutoCloseable closeable) {
        if (closeable != null) {
            try {
                closeable.close();
            } catch (Exception ignored) {
                // A pending connect attempt that fails to close has already finished.
            }
        }
    }

    @Override
    public synchronized String toString() {
        return "SoftCmId[" + state + ", local=" + localAddress + ", remote=" + remoteAddress + "]";
    }
}
