package io.livemig.transport.rdma.verbs.rdmacore;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import io.livemig.transport.rdma.verbs.CmEvent;
import io.livemig.transport.rdma.verbs.CmEventType;
import io.livemig.transport.rdma.verbs.CmId;
import io.livemig.transport.rdma.verbs.ConnectionParameters;
import io.livemig.transport.rdma.verbs.InvalidStateException;
import io.livemig.transport.rdma.verbs.ProtectionDomain;
import io.livemig.transport.rdma.verbs.QpInitAttributes;
import io.livemig.transport.rdma.verbs.QueuePair;
import io.livemig.transport.rdma.verbs.VerbsException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Arrays;

/**
 * An rdma_cm identifier ({@code rdma_create_id} with {@code RDMA_PS_TCP}) and its queue pair.
 *
 * <p>The state machine mirrors librdmacm's, so a call out of order fails in Java with the state it found instead
 * of an EINVAL from the kernel. librdmacm moves the queue pair itself: INIT in {@code rdma_create_qp}, RTR and RTS
 * in {@code rdma_accept} (passive) or on the connect response (active), ERR on REJECTED and in
 * {@code rdma_disconnect}. On DISCONNECTED this class answers with {@code rdma_disconnect} as {@code man
 * rdma_disconnect} asks of both sides, which also sends the DREP the peer waits for.
 */
final class RdmaCoreCmId implements CmId {

    /** Identifier states, named after the calls and events that enter them. */
    enum State {
        IDLE, ADDR_QUERY, ADDR_RESOLVED, ROUTE_QUERY, ROUTE_RESOLVED, LISTENING, CONNECT_REQUESTED, CONNECTING,
        ACCEPTING, ESTABLISHED, REJECTED, DISCONNECTED, FAILED, CLOSED
    }

    private static final int ETIMEDOUT = 110;
    private static final int EHOSTUNREACH = 113;

    private final RdmaCoreEventChannel channel;
    private final MemorySegment id;
    private State state;
    private RdmaCoreQueuePair qp;
    private Runnable cancelDeadline;
    private boolean timedOut;
    private boolean disconnected;

    RdmaCoreCmId(RdmaCoreEventChannel channel, MemorySegment id, State state) {
        this.channel = channel;
        this.id = id;
        this.state = state;
    }

    MemorySegment pointer() {
        return id;
    }

    synchronized boolean isListening() {
        return state == State.LISTENING;
    }

    /**
     * Applies the provider-wide options to a new identifier: the ACK timeout of system property
     * {@value RdmaCoreVerbsProvider#ACK_TIMEOUT_PROPERTY} ({@code RDMA_OPTION_ID_ACK_TIMEOUT}, the exponent of
     * {@code 4.096 us * 2^n}), which slow links such as rxe under emulation need and the SPI has no field for.
     */
    void applyProviderOptions() {
        Integer ackTimeout = RdmaCoreVerbsProvider.ackTimeout();
        if (ackTimeout == null) {
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Errors.allocateErrnoState(arena);
            MemorySegment value = arena.allocate(JAVA_BYTE);
            value.set(JAVA_BYTE, 0, ackTimeout.byteValue());
            int ignored = (int) Cm.SET_OPTION.invokeExact(state, id, CmStructs.RDMA_OPTION_ID,
                    CmStructs.RDMA_OPTION_ID_ACK_TIMEOUT, value, 1L);
        } catch (Throwable t) {
            throw Errors.unexpected(t);
        }
    }

    @Override
    public synchronized void resolveAddress(InetSocketAddress destination, Duration timeout) throws VerbsException {
        require("rdma_resolve_addr", State.IDLE);
        InetSocketAddress resolved = destination;
        if (destination.isUnresolved()) {
            // rdma_resolve_addr takes a sockaddr; names are resolved here, as rdma_getaddrinfo would, and a name
            // that does not resolve ends the way an unreachable address does: with ADDR_ERROR on the channel.
            try {
                resolved = new InetSocketAddress(InetAddress.getByName(destination.getHostString()),
                        destination.getPort());
            } catch (UnknownHostException e) {
                channel.provide(new CmEvent(CmEventType.ADDR_ERROR, this, null, null, -EHOSTUNREACH));
                return;
            }
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errnoState = Errors.allocateErrnoState(arena);
            MemorySegment address = SocketAddresses.write(resolved, arena);
            if ((int) Cm.RESOLVE_ADDR.invokeExact(errnoState, id, MemorySegment.NULL, address, millis(timeout)) != 0) {
                throw Errors.failure("rdma_resolve_addr", Errors.errno(errnoState));
            }
            state = State.ADDR_QUERY;
        } catch (VerbsException e) {
            throw e;
        } catch (Throwable t) {
            throw Errors.unexpected(t);
        }
    }

    @Override
    public synchronized void resolveRoute(Duration timeout) throws VerbsException {
        require("rdma_resolve_route", State.ADDR_RESOLVED);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errnoState = Errors.allocateErrnoState(arena);
            if ((int) Cm.RESOLVE_ROUTE.invokeExact(errnoState, id, millis(timeout)) != 0) {
                throw Errors.failure("rdma_resolve_route", Errors.errno(errnoState));
            }
            state = State.ROUTE_QUERY;
        } catch (VerbsException e) {
            throw e;
        } catch (Throwable t) {
            throw Errors.unexpected(t);
        }
    }

    @Override
    public synchronized void listen(InetSocketAddress address, int backlog) throws VerbsException {
        require("rdma_listen", State.IDLE);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errnoState = Errors.allocateErrnoState(arena);
            MemorySegment sockaddr = SocketAddresses.write(address, arena);
            if ((int) Cm.BIND_ADDR.invokeExact(errnoState, id, sockaddr) != 0) {
                // The caller says what it could not do, and where; the errno travels as the cause.
                throw Errors.failure("rdma_bind_addr", Errors.errno(errnoState));
            }
            if ((int) Cm.LISTEN.invokeExact(errnoState, id, backlog) != 0) {
                throw Errors.failure("rdma_listen", Errors.errno(errnoState));
            }
            state = State.LISTENING;
        } catch (VerbsException e) {
            throw e;
        } catch (Throwable t) {
            throw Errors.unexpected(t);
        }
    }

    @Override
    public synchronized QueuePair createQueuePair(ProtectionDomain pd, QpInitAttributes attributes)
            throws VerbsException {
        if (qp != null) {
            throw new InvalidStateException("rdma_create_qp: the identifier already has queue pair " + qp.qpNumber());
        }
        require("rdma_create_qp", State.ROUTE_RESOLVED, State.CONNECT_REQUESTED);
        MemorySegment verbs = (MemorySegment) CmStructs.CM_ID_VERBS.get(id, 0L);
        if (!(pd instanceof RdmaCoreProtectionDomain domain)
                || domain.device().context().address() != verbs.address()) {
            throw new VerbsException("rdma_create_qp: the protection domain belongs to another device");
        }
        if (!(attributes.sendCq() instanceof RdmaCoreCompletionQueue sendCq)
                || !(attributes.receiveCq() instanceof RdmaCoreCompletionQueue receiveCq)
                || sendCq.device().context().address() != verbs.address()
                || receiveCq.device().context().address() != verbs.address()) {
            throw new VerbsException("rdma_create_qp: the completion queue belongs to another device");
        }
        NativeParameters.checkLimits(attributes, domain.device());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errnoState = Errors.allocateErrnoState(arena);
            MemorySegment init = NativeParameters.qpInitAttr(attributes, sendCq, receiveCq, arena);
            if ((int) Cm.CREATE_QP.invokeExact(errnoState, id, domain.pointer(), init) != 0) {
                throw Errors.failure("rdma_create_qp", Errors.errno(errnoState));
            }
            qp = new RdmaCoreQueuePair(this, (MemorySegment) CmStructs.CM_ID_QP.get(id, 0L), attributes, sendCq,
                    receiveCq);
            return qp;
        } catch (VerbsException e) {
            throw e;
        } catch (Throwable t) {
            throw Errors.unexpected(t);
        }
    }

    @Override
    public synchronized QueuePair queuePair() {
        return qp;
    }

    @Override
    public synchronized void connect(ConnectionParameters parameters) throws VerbsException {
        require("rdma_connect", State.ROUTE_RESOLVED);
        requireQueuePair("rdma_connect");
        handshake("rdma_connect", parameters, State.CONNECTING, CmEventType.UNREACHABLE);
    }

    @Override
    public synchronized void accept(ConnectionParameters parameters) throws VerbsException {
        require("rdma_accept", State.CONNECT_REQUESTED);
        requireQueuePair("rdma_accept");
        handshake("rdma_accept", parameters, State.ACCEPTING, CmEventType.CONNECT_ERROR);
    }

    private void handshake(String call, ConnectionParameters parameters, State next, CmEventType onTimeout)
            throws VerbsException {
        checkPrivateData(call, parameters.privateData().length);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errnoState = Errors.allocateErrnoState(arena);
            MemorySegment param = NativeParameters.connParam(parameters, arena);
            int result = next == State.CONNECTING
                    ? (int) Cm.CONNECT.invokeExact(errnoState, id, param)
                    : (int) Cm.ACCEPT.invokeExact(errnoState, id, param);
            if (result != 0) {
                throw Errors.failure(call, Errors.errno(errnoState));
            }
        } catch (VerbsException e) {
            throw e;
        } catch (Throwable t) {
            throw Errors.unexpected(t);
        }
        state = next;
        // The IB CM gives up only after its own retries (minutes); the SPI promises the caller's timeout.
        cancelDeadline = channel.device().thread().schedule(parameters.timeout().toNanos(),
                () -> handshakeTimedOut(next, onTimeout));
    }

    private synchronized void handshakeTimedOut(State expected, CmEventType type) {
        if (state != expected) {
            return;
        }
        timedOut = true;
        state = State.FAILED;
        cancelDeadline = null;
        if (qp != null) {
            qp.moveToError();
        }
        channel.provide(new CmEvent(type, this, null, null, -ETIMEDOUT));
    }

    @Override
    public synchronized void reject(byte[] privateData) throws VerbsException {
        require("rdma_reject", State.CONNECT_REQUESTED);
        byte[] data = privateData == null ? new byte[0] : privateData;
        checkPrivateData("rdma_reject", data.length);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errnoState = Errors.allocateErrnoState(arena);
            MemorySegment pointer = NativeParameters.bytes(data, arena);
            if ((int) Cm.REJECT.invokeExact(errnoState, id, pointer, (byte) data.length) != 0) {
                throw Errors.failure("rdma_reject", Errors.errno(errnoState));
            }
            state = State.REJECTED;
        } catch (VerbsException e) {
            throw e;
        } catch (Throwable t) {
            throw Errors.unexpected(t);
        }
    }

    @Override
    public synchronized void disconnect() {
        if (disconnected || state == State.CLOSED) {
            return;
        }
        if (state == State.CONNECTING || state == State.ACCEPTING || state == State.ESTABLISHED) {
            disconnectNative();
            state = State.DISCONNECTED;
        }
    }

    private void disconnectNative() {
        disconnected = true;
        try (Arena arena = Arena.ofConfined()) {
            // Fails with EINVAL when the CM already left the connected state; the QP is in ERR either way.
            int ignored = (int) Cm.DISCONNECT.invokeExact(Errors.allocateErrnoState(arena), id);
        } catch (Throwable t) {
            throw Errors.unexpected(t);
        }
    }

    /**
     * Turns a native event for this identifier into the SPI's event, updating the state; {@code null} drops it
     * (events the SPI does not model, and late answers to a handshake already reported as timed out).
     */
    synchronized CmEvent onEvent(int type, int status, byte[] privateData, RdmaCoreCmId listenId) {
        if (state == State.CLOSED) {
            return null;
        }
        CmEventType spiType = switch (type) {
            case 0 -> { state = State.ADDR_RESOLVED; yield CmEventType.ADDR_RESOLVED; }
            case 1 -> { state = State.IDLE; yield CmEventType.ADDR_ERROR; } // rdma_cm: the id may try again
            case 2 -> { state = State.ROUTE_RESOLVED; yield CmEventType.ROUTE_RESOLVED; }
            case 3 -> { state = State.ADDR_RESOLVED; yield CmEventType.ROUTE_ERROR; }
            case 4 -> CmEventType.CONNECT_REQUEST;
            case 6, 7, 8 -> handshakeFailed(type);
            case 9 -> established();
            case 10, 11 -> peerDisconnected();
            default -> null; // CONNECT_RESPONSE (only without a QP), ADDR_CHANGE, TIMEWAIT_EXIT, multicast
        };
        if (spiType == null) {
            return null;
        }
        return new CmEvent(spiType, this, spiType == CmEventType.CONNECT_REQUEST ? listenId : null, privateData,
                status);
    }

    private CmEventType handshakeFailed(int type) {
        if (timedOut) {
            return null;
        }
        cancelDeadline();
        state = type == 8 ? State.REJECTED : State.FAILED;
        if (qp != null) {
            qp.moveToError();
        }
        return type == 6 ? CmEventType.CONNECT_ERROR : type == 7 ? CmEventType.UNREACHABLE : CmEventType.REJECTED;
    }

    private CmEventType established() {
        if (timedOut) {
            disconnectNative(); // too late: the caller was told UNREACHABLE / CONNECT_ERROR
            return null;
        }
        cancelDeadline();
        state = State.ESTABLISHED;
        return CmEventType.ESTABLISHED;
    }

    private CmEventType peerDisconnected() {
        if (timedOut) {
            return null;
        }
        cancelDeadline();
        if (!disconnected) {
            disconnectNative();
        }
        state = State.DISCONNECTED;
        return CmEventType.DISCONNECTED;
    }

    private void cancelDeadline() {
        if (cancelDeadline != null) {
            cancelDeadline.run();
            cancelDeadline = null;
        }
    }

    @Override
    public synchronized InetSocketAddress localAddress() {
        return state == State.CLOSED ? null : SocketAddresses.read(id.asSlice(CmStructs.CM_ID_SRC_ADDR,
                CmStructs.SOCKADDR_STORAGE_SIZE));
    }

    @Override
    public synchronized InetSocketAddress remoteAddress() {
        return state == State.CLOSED ? null : SocketAddresses.read(id.asSlice(CmStructs.CM_ID_DST_ADDR,
                CmStructs.SOCKADDR_STORAGE_SIZE));
    }

    synchronized void closeQueuePair(RdmaCoreQueuePair queuePair) {
        if (queuePair == qp) {
            queuePair.destroy();
        }
    }

    /** Called by {@link RdmaCoreQueuePair#destroy()} with this identifier's lock held. */
    void destroyNativeQueuePair() {
        try {
            Cm.DESTROY_QP.invokeExact(id);
        } catch (Throwable t) {
            throw Errors.unexpected(t);
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            if (state == State.CLOSED) {
                return;
            }
            disconnect();
            cancelDeadline();
            if (qp != null) {
                qp.destroy();
            }
            state = State.CLOSED;
            try (Arena arena = Arena.ofConfined()) {
                int ignored = (int) Cm.DESTROY_ID.invokeExact(Errors.allocateErrnoState(arena), id);
            } catch (Throwable t) {
                throw Errors.unexpected(t);
            }
        }
        channel.forget(this);
    }

    private void require(String call, State... allowed) throws InvalidStateException {
        for (State candidate : allowed) {
            if (state == candidate) {
                return;
            }
        }
        throw new InvalidStateException(call + ": identifier is " + state + ", expected "
                + (allowed.length == 1 ? allowed[0] : Arrays.toString(allowed)));
    }

    private void requireQueuePair(String call) throws InvalidStateException {
        if (qp == null || qp.isDestroyed()) {
            throw new InvalidStateException(call + ": no queue pair; call createQueuePair first");
        }
    }

    private void checkPrivateData(String call, int length) throws VerbsException {
        if (length > RdmaCoreDevice.MAX_PRIVATE_DATA) {
            throw new VerbsException(call + ": private data of " + length + " bytes exceeds "
                    + RdmaCoreDevice.MAX_PRIVATE_DATA + " bytes");
        }
    }

    private static int millis(Duration timeout) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
    }

    @Override
    public synchronized String toString() {
        return "RdmaCoreCmId[" + state + (qp == null ? "" : ", qp " + qp.qpNumber()) + "]";
    }
}
