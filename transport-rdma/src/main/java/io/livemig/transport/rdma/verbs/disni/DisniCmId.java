package io.livemig.transport.rdma.verbs.disni;

import com.ibm.disni.verbs.IbvQP;
import com.ibm.disni.verbs.IbvQPInitAttr;
import com.ibm.disni.verbs.RdmaCmId;
import com.ibm.disni.verbs.RdmaConnParam;
import com.ibm.disni.verbs.impl.NatObject;
import io.livemig.transport.rdma.verbs.CmEvent;
import io.livemig.transport.rdma.verbs.CmEventType;
import io.livemig.transport.rdma.verbs.CmId;
import io.livemig.transport.rdma.verbs.ConnectionParameters;
import io.livemig.transport.rdma.verbs.DeviceAttributes;
import io.livemig.transport.rdma.verbs.InvalidStateException;
import io.livemig.transport.rdma.verbs.ProtectionDomain;
import io.livemig.transport.rdma.verbs.QpInitAttributes;
import io.livemig.transport.rdma.verbs.QueuePair;
import io.livemig.transport.rdma.verbs.VerbsException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Arrays;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * An rdma_cm identifier created by DiSNI ({@code RdmaCmId}) and its queue pair, with the verbs provider's state
 * machine, so calls out of order fail in Java with the state found.
 *
 * <p>DiSNI's limits show here: {@code accept} sends no private data (libdisni's {@code _accept} takes retry counts
 * only), events carry neither the peer's private data nor a status, there is no {@code rdma_reject} (the request's
 * identifier is destroyed instead, and the peer's CM rejects), the connect's {@code initiator_depth} and
 * {@code responder_resources} are the device's maximum whatever the caller asks, and addresses are IPv4 only.
 */
final class DisniCmId implements CmId {

    /** Identifier states, named after the calls and events that enter them. */
    enum State {
        IDLE, ADDR_QUERY, ADDR_RESOLVED, ROUTE_QUERY, ROUTE_RESOLVED, LISTENING, CONNECT_REQUESTED, CONNECTING,
        ACCEPTING, ESTABLISHED, REJECTED, DISCONNECTED, FAILED, CLOSED
    }

    private static final Logger LOG = Logger.getLogger(DisniCmId.class.getName());
    private static final int ETIMEDOUT = 110;
    private static final int EHOSTUNREACH = 113;
    private static final byte IBV_QPT_RC = 2;

    private final DisniEventChannel channel;
    private final RdmaCmId id;
    private State state;
    private DisniQueuePair qp;
    private Runnable cancelDeadline;
    private boolean timedOut;
    private boolean disconnected;
    private boolean nativeDestroyed;

    DisniCmId(DisniEventChannel channel, RdmaCmId id, State state) {
        this.channel = channel;
        this.id = id;
        this.state = state;
    }

    long pointer() {
        return ((NatObject) id).getObjId();
    }

    synchronized boolean isListening() {
        return state == State.LISTENING;
    }

    /** Sets the ACK timeout of {@value DisniVerbsProvider#ACK_TIMEOUT_PROPERTY}, which DiSNI has no call for. */
    void applyProviderOptions() {
        Integer ackTimeout = DisniVerbsProvider.ackTimeout();
        if (ackTimeout != null) {
            DisniNative.setAckTimeout(pointer(), ackTimeout);
        }
    }

    @Override
    public synchronized void resolveAddress(InetSocketAddress destination, Duration timeout) throws VerbsException {
        require("rdma_resolve_addr", State.IDLE);
        InetSocketAddress resolved = destination;
        if (destination.isUnresolved()) {
            try {
                resolved = new InetSocketAddress(InetAddress.getByName(destination.getHostString()),
                        destination.getPort());
            } catch (UnknownHostException e) {
                channel.provide(new CmEvent(CmEventType.ADDR_ERROR, this, null, null, -EHOSTUNREACH));
                return;
            }
        }
        requireIpv4("rdma_resolve_addr", resolved);
        try {
            id.resolveAddr(null, resolved, millis(timeout));
            state = State.ADDR_QUERY;
        } catch (IOException e) {
            throw new VerbsException("rdma_resolve_addr: " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void resolveRoute(Duration timeout) throws VerbsException {
        require("rdma_resolve_route", State.ADDR_RESOLVED);
        try {
            id.resolveRoute(millis(timeout));
            state = State.ROUTE_QUERY;
        } catch (IOException e) {
            throw new VerbsException("rdma_resolve_route: " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void listen(InetSocketAddress address, int backlog) throws VerbsException {
        require("rdma_listen", State.IDLE);
        requireIpv4("rdma_bind_addr", address);
        try {
            id.bindAddr(address);
        } catch (IOException e) {
            throw new VerbsException("rdma_bind_addr: cannot listen on " + address + ": " + e.getMessage(), e);
        }
        try {
            id.listen(backlog);
            state = State.LISTENING;
        } catch (IOException e) {
            throw new VerbsException("rdma_listen: " + e.getMessage(), e);
        }
    }

    private static void requireIpv4(String call, InetSocketAddress address) throws VerbsException {
        if (!(address.getAddress() instanceof Inet4Address)) {
            throw new VerbsException(call + ": DiSNI supports IPv4 addresses only, got " + address);
        }
    }

    @Override
    public synchronized QueuePair createQueuePair(ProtectionDomain pd, QpInitAttributes attributes)
            throws VerbsException {
        if (qp != null) {
            throw new InvalidStateException("rdma_create_qp: the identifier already has queue pair " + qp.qpNumber());
        }
        require("rdma_create_qp", State.ROUTE_RESOLVED, State.CONNECT_REQUESTED);
        DisniDevice device = channel.device();
        if (!(pd instanceof DisniProtectionDomain domain) || domain.device() != device) {
            throw new VerbsException("rdma_create_qp: the protection domain belongs to another device");
        }
        if (!(attributes.sendCq() instanceof DisniCompletionQueue sendCq)
                || !(attributes.receiveCq() instanceof DisniCompletionQueue receiveCq)) {
            throw new VerbsException("rdma_create_qp: the completion queue belongs to another device");
        }
        DeviceAttributes limits = device.attributes();
        int deepest = Math.max(attributes.maxSendWr(), attributes.maxReceiveWr());
        int widest = Math.max(attributes.maxSendSge(), attributes.maxReceiveSge());
        if (deepest > limits.maxQpWr() || widest > limits.maxSge() || attributes.maxInlineData()
                > limits.maxInlineData()) {
            throw new VerbsException("rdma_create_qp: attributes exceed the limits of " + device.name()
                    + ": max_send_wr " + attributes.maxSendWr() + ", max_recv_wr " + attributes.maxReceiveWr()
                    + " (max_qp_wr " + limits.maxQpWr() + "), max_send_sge " + attributes.maxSendSge()
                    + ", max_recv_sge " + attributes.maxReceiveSge() + " (max_sge " + limits.maxSge()
                    + "), max_inline_data " + attributes.maxInlineData() + " (" + limits.maxInlineData() + ")");
        }
        IbvQPInitAttr init = new IbvQPInitAttr();
        init.setQp_type(IBV_QPT_RC);
        init.setSend_cq(sendCq.cq());
        init.setRecv_cq(receiveCq.cq());
        init.cap().setMax_send_wr(attributes.maxSendWr());
        init.cap().setMax_recv_wr(attributes.maxReceiveWr());
        init.cap().setMax_send_sge(DisniDevice.MAX_SGE);
        init.cap().setMax_recv_sge(DisniDevice.MAX_SGE);
        init.cap().setMax_inline_data(attributes.maxInlineData());
        try {
            IbvQP created = id.createQP(domain.pd(), init);
            if (created == null) {
                throw new VerbsException("rdma_create_qp: DiSNI returned no queue pair");
            }
            qp = new DisniQueuePair(this, created, attributes, sendCq, receiveCq);
            return qp;
        } catch (IOException e) {
            throw new VerbsException("rdma_create_qp: " + e.getMessage(), e);
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
        byte[] data = parameters.privateData();
        checkPrivateData("rdma_connect", data.length);
        // rdma_connect copies the private data into the CM's REQ before it returns.
        try (Arena arena = Arena.ofConfined()) {
            RdmaConnParam param = new RdmaConnParam();
            param.setRetry_count((byte) parameters.retryCount());
            param.setRnr_retry_count((byte) parameters.rnrRetryCount());
            if (data.length > 0) {
                MemorySegment bytes = arena.allocate(data.length);
                MemorySegment.copy(data, 0, bytes, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, data.length);
                param.setPrivate_data(bytes.address());
                param.setPrivate_data_len((byte) data.length);
            }
            id.connect(param);
        } catch (IOException e) {
            throw new VerbsException("rdma_connect: " + e.getMessage(), e);
        }
        startHandshake(parameters, State.CONNECTING, CmEventType.UNREACHABLE);
    }

    @Override
    public synchronized void accept(ConnectionParameters parameters) throws VerbsException {
        require("rdma_accept", State.CONNECT_REQUESTED);
        requireQueuePair("rdma_accept");
        checkPrivateData("rdma_accept", parameters.privateData().length);
        // libdisni's _accept sends no private data: the caller's is dropped (docs/disni-provider.md).
        try {
            RdmaConnParam param = new RdmaConnParam();
            param.setRetry_count((byte) parameters.retryCount());
            param.setRnr_retry_count((byte) parameters.rnrRetryCount());
            id.accept(param);
        } catch (IOException e) {
            throw new VerbsException("rdma_accept: " + e.getMessage(), e);
        }
        startHandshake(parameters, State.ACCEPTING, CmEventType.CONNECT_ERROR);
    }

    private void startHandshake(ConnectionParameters parameters, State next, CmEventType onTimeout) {
        state = next;
        // The IB CM gives up only after its own retries (minutes); the SPI promises the caller's timeout.
        cancelDeadline = channel.device().schedule(parameters.timeout().toNanos(),
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

    /**
     * DiSNI has no {@code rdma_reject}: the request's identifier is destroyed, and the kernel's CM answers the peer
     * with a REJ (consumer defined) without private data.
     */
    @Override
    public synchronized void reject(byte[] privateData) throws VerbsException {
        require("rdma_reject", State.CONNECT_REQUESTED);
        checkPrivateData("rdma_reject", privateData == null ? 0 : privateData.length);
        if (qp != null) {
            qp.destroy();
        }
        destroyNative();
        state = State.REJECTED;
    }

    private void destroyNative() {
        if (nativeDestroyed) {
            return;
        }
        nativeDestroyed = true;
        try {
            id.destroyId();
        } catch (IOException e) {
            LOG.log(Level.FINE, "rdma_destroy_id failed", e);
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
        try {
            // Fails with EINVAL when the CM already left the connected state; the QP is in ERR either way.
            int ignored = id.disconnect();
        } catch (IOException e) {
            LOG.log(Level.FINE, "rdma_disconnect failed", e);
        }
    }

    /**
     * Turns a DiSNI event for this identifier into the SPI's event, updating the state; {@code null} drops it.
     * DiSNI delivers neither private data nor status: both are empty and 0.
     */
    synchronized CmEvent onEvent(int type, DisniCmId listenId) {
        if (state == State.CLOSED || state == State.REJECTED && nativeDestroyed) {
            return null;
        }
        CmEventType spiType = switch (type) {
            case 0 -> { state = State.ADDR_RESOLVED; yield CmEventType.ADDR_RESOLVED; }
            case 1 -> { state = State.IDLE; yield CmEventType.ADDR_ERROR; }
            case 2 -> { state = State.ROUTE_RESOLVED; yield CmEventType.ROUTE_RESOLVED; }
            case 3 -> { state = State.ADDR_RESOLVED; yield CmEventType.ROUTE_ERROR; }
            case 4 -> CmEventType.CONNECT_REQUEST;
            case 6, 7, 8 -> handshakeFailed(type);
            case 9 -> established();
            case 10, 11 -> peerDisconnected();
            default -> null;
        };
        if (spiType == null) {
            return null;
        }
        return new CmEvent(spiType, this, spiType == CmEventType.CONNECT_REQUEST ? listenId : null, null,
                0);
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
            disconnectNative();
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
        return address(true);
    }

    @Override
    public synchronized InetSocketAddress remoteAddress() {
        return address(false);
    }

    private InetSocketAddress address(boolean local) {
        if (state == State.CLOSED || nativeDestroyed) {
            return null;
        }
        try {
            SocketAddress address = local ? id.getSource() : id.getDestination();
            return address instanceof InetSocketAddress inet ? inet : null;
        } catch (IOException e) {
            return null;
        }
    }

    synchronized void closeQueuePair(DisniQueuePair queuePair) {
        if (queuePair == qp) {
            queuePair.destroy();
        }
    }

    /** Called by {@link DisniQueuePair#destroy()} with this identifier's lock held. */
    void destroyNativeQueuePair() {
        if (nativeDestroyed) {
            return;
        }
        try {
            id.destroyQP();
        } catch (IOException e) {
            LOG.log(Level.FINE, "rdma_destroy_qp failed", e);
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
            destroyNative();
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

    private static void checkPrivateData(String call, int length) throws VerbsException {
        if (length > DisniDevice.MAX_PRIVATE_DATA) {
            throw new VerbsException(call + ": private data of " + length + " bytes exceeds "
                    + DisniDevice.MAX_PRIVATE_DATA + " bytes");
        }
    }

    private static int millis(Duration timeout) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
    }

    @Override
    public synchronized String toString() {
        return "DisniCmId[" + state + (qp == null ? "" : ", qp " + qp.qpNumber()) + "]";
    }
}
