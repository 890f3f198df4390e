package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.InvalidWorkRequestException;
import io.livemig.transport.rdma.verbs.QpInitAttributes;
import io.livemig.transport.rdma.verbs.QpState;
import io.livemig.transport.rdma.verbs.QueuePair;
import io.livemig.transport.rdma.verbs.ReceiveWorkRequest;
import io.livemig.transport.rdma.verbs.ScatterGatherElement;
import io.livemig.transport.rdma.verbs.SendOpcode;
import io.livemig.transport.rdma.verbs.SendWorkRequest;
import io.livemig.transport.rdma.verbs.WcOpcode;
import io.livemig.transport.rdma.verbs.WcStatus;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A soft RC queue pair: the state machine, the post verbs, and the glue between the wire, the
 * {@link RcRequester} and the {@link RcResponder}. State changes and the requester run under this object's
 * monitor; the responder runs on the wire's delivery thread.
 */
final class SoftQueuePair implements QueuePair {

    private final SoftDevice device;
    private final SoftProtectionDomain pd;
    private final QpInitAttributes attributes;
    private final SoftCompletionQueue sendCq;
    private final SoftCompletionQueue receiveCq;
    private final int qpNumber;
    private final long initialPsn;
    private final RcRequester requester;
    private final RcResponder responder;
    private volatile QpState state = QpState.INIT;
    /** Set once at RTR; guarded by {@code this}. */
    private Wire wire;

    SoftQueuePair(SoftDevice device, SoftProtectionDomain pd, QpInitAttributes attributes, int qpNumber) {
        this.device = device;
        this.pd = pd;
        this.attributes = attributes;
        this.sendCq = (SoftCompletionQueue) attributes.sendCq();
        this.receiveCq = (SoftCompletionQueue) attributes.receiveCq();
        this.qpNumber = qpNumber;
        // PSNs are 24-bit on the wire of IB; the soft fabrics carry 64 bits, so they never wrap.
        this.initialPsn = ThreadLocalRandom.current().nextInt(1 << 24);
        this.requester = new RcRequester(this, initialPsn);
        this.responder = new RcResponder(this);
    }

    @Override
    public int qpNumber() {
        return qpNumber;
    }

    @Override
    public QpState state() {
        return state;
    }

    @Override
    public QpInitAttributes attributes() {
        return attributes;
    }

    long initialPsn() {
        return initialPsn;
    }

    SoftProtectionDomain pd() {
        return pd;
    }

    Duration ackTimeout() {
        return device.fabric().ackTimeout();
    }

    boolean isInError() {
        return state == QpState.ERR;
    }

    boolean canRespond() {
        QpState current = state;
        return current == QpState.RTR || current == QpState.RTS;
    }

    /** INIT → RTR: the responder runs from the peer's initial PSN (rdma_cm does this before sending REP/RTU). */
    synchronized void readyToReceive(Wire connected, long peerInitialPsn) {
        if (state != QpState.INIT) {
            return;
        }
        this.wire = connected;
        responder.start(peerInitialPsn);
        state = QpState.RTR;
    }

    /** RTR → RTS with the connection's retry counts. */
    synchronized void readyToSend(int retryCount, int rnrRetryCount) {
        if (state != QpState.RTR) {
            return;
        }
        requester.configure(retryCount, rnrRetryCount);
        state = QpState.RTS;
    }

    @Override
    public void postSend(SendWorkRequest request) throws InvalidWorkRequestException {
        validate(request);
        synchronized (this) {
            switch (state) {
                case RESET, INIT, RTR -> throw new InvalidWorkRequestException("ibv_post_send: queue pair " + qpNumber
                        + " is in state " + state + "; sends need RTS");
                case ERR -> {
                    completeSend(request, WcStatus.WR_FLUSH_ERR, 0);
                    return;
                }
                case RTS -> { }
            }
            if (requester.outstandingCount() >= attributes.maxSendWr()) {
                throw new InvalidWorkRequestException("ibv_post_send: send queue of queue pair " + qpNumber
                        + " is full (" + attributes.maxSendWr() + " outstanding work requests)");
            }
            long psn = requester.allocatePsn();
            SendQueueEntry entry = resolve(request, psn);
            if (entry == null) {
                // IB spec 10.8.3.3: a local protection error completes this WR in error and the QP enters ERR.
                enterError();
                completeSend(request, WcStatus.LOC_PROT_ERR, 0);
                return;
            }
            requester.post(entry);
        }
    }

    private void validate(SendWorkRequest request) throws InvalidWorkRequestException {
        if (request.sges().size() > attributes.maxSendSge()) {
            throw new InvalidWorkRequestException("ibv_post_send: " + request.sges().size()
                    + " SGEs exceed max_send_sge " + attributes.maxSendSge() + " of queue pair " + qpNumber);
        }
        if (request.totalLength() > Integer.toUnsignedLong(-1)) {
            throw new InvalidWorkRequestException("ibv_post_send: message of " + request.totalLength()
                    + " bytes exceeds 2^32 - 1");
        }
        if (request.inline() && (request.opcode() == SendOpcode.RDMA_READ
                || request.totalLength() > attributes.maxInlineData())) {
            throw new InvalidWorkRequestException("ibv_post_send: inline " + request.opcode() + " of "
                    + request.totalLength() + " bytes refused (max_inline_data " + attributes.maxInlineData()
                    + ", READ cannot be inline)");
        }
    }

    /** Resolves the SGEs against the protection domain; {@code null} on a local protection error. */
    @SuppressWarnings("restricted") // inline data is read by address, unchecked by lkey, as man ibv_post_send says
    private SendQueueEntry resolve(SendWorkRequest request, long psn) {
        if (request.inline()) {
            // IBV_SEND_INLINE: the payload is captured now, lkeys are not checked (man ibv_post_send).
            byte[] copy = new byte[(int) request.totalLength()];
            long offset = 0;
            for (ScatterGatherElement sge : request.sges()) {
                MemorySegment source = MemorySegment.ofAddress(sge.address()).reinterpret(sge.unsignedLength());
                MemorySegment.copy(source, 0, MemorySegment.ofArray(copy), offset, sge.unsignedLength());
                offset += sge.unsignedLength();
            }
            Gather gather = new Gather(List.of(MemorySegment.ofArray(copy)), Collections.singletonList(null), () -> { });
            return new SendQueueEntry(request, psn, gather, List.of(), List.of());
        }
        boolean read = request.opcode() == SendOpcode.RDMA_READ;
        List<MemorySegment> segments = new ArrayList<>(request.sges().size());
        List<SoftMemoryRegion> regions = new ArrayList<>(request.sges().size());
        for (ScatterGatherElement sge : request.sges()) {
            SoftMemoryRegion region = pd.byLkey(sge.lkey());
            if (region == null || !region.contains(sge.address(), sge.unsignedLength())
                    || (read && !region.access().contains(AccessFlag.LOCAL_WRITE))) {
                return null;
            }
            segments.add(region.slice(sge.address(), sge.unsignedLength()));
            regions.add(region);
        }
        if (read) {
            return new SendQueueEntry(request, psn, Gather.EMPTY, List.copyOf(segments), List.copyOf(regions));
        }
        Gather gather = new Gather(List.copyOf(segments), List.copyOf(regions), () -> onGatherFailure(psn));
        return new SendQueueEntry(request, psn, gather, List.of(), List.of());
    }

    /** A region of a queued SEND/WRITE was deregistered before the fabric read it. */
    private synchronized void onGatherFailure(long psn) {
        if (state != QpState.ERR) {
            requester.failPsn(psn, WcStatus.LOC_PROT_ERR);
        }
    }

    @Override
    public void postReceive(ReceiveWorkRequest request) throws InvalidWorkRequestException {
        if (request.sges().size() > attributes.maxReceiveSge()) {
            throw new InvalidWorkRequestException("ibv_post_recv: " + request.sges().size()
                    + " SGEs exceed max_recv_sge " + attributes.maxReceiveSge() + " of queue pair " + qpNumber);
        }
        synchronized (this) {
            if (state == QpState.RESET) {
                throw new InvalidWorkRequestException("ibv_post_recv: queue pair " + qpNumber + " is in state RESET");
            }
            if (state == QpState.ERR) {
                completeReceive(request, WcStatus.WR_FLUSH_ERR, WcOpcode.RECV, 0, 0, false);
                return;
            }
            if (!responder.post(request, attributes.maxReceiveWr())) {
                throw new InvalidWorkRequestException("ibv_post_recv: receive queue of queue pair " + qpNumber
                        + " is full (" + attributes.maxReceiveWr() + " posted work requests)");
            }
        }
    }

    @Override
    public void moveToError() {
        enterError();
    }

    /** Any state → ERR: flush both work queues (IB spec 10.3.1, "Error" state). */
    void enterError() {
        enterError(null);
    }

    /**
     * Any state → ERR, reporting the cause between the state change and the flush: whoever sees the cause (a CM
     * event) finds the queue pair in ERR, and sees it before the WR_FLUSH_ERR completions it explains, in the order
     * librdmacm reports them.
     *
     * @param announce run once, under this queue pair's monitor, even when the queue pair was in ERR already
     */
    synchronized void enterError(Runnable announce) {
        boolean wasInError = state == QpState.ERR;
        state = QpState.ERR;
        if (announce != null) {
            announce.run();
        }
        if (!wasInError) {
            requester.flush();
            responder.flush();
        }
    }

    @Override
    public void close() {
        enterError();
        device.forget(this);
    }

    // ---- called by the wire (delivery thread) --------------------------------------------------------------

    void onFrame(Frame frame, Payload payload) {
        switch (frame) {
            case Frame.RcRequest request -> responder.onRequest(request, payload);
            case Frame.RcResponse response -> onResponse(response, payload);
            case Frame.CmMessage ignored -> throw new IllegalArgumentException("CM message routed to a queue pair");
        }
    }

    private synchronized void onResponse(Frame.RcResponse response, Payload payload) {
        if (state != QpState.RTS) {
            return;
        }
        switch (response.kind()) {
            case ACK -> requester.onAck(response.psn());
            case NAK -> requester.onNak(response.psn(), response.nak());
            case READ_RESPONSE -> requester.onReadResponse(response.psn(), payload);
        }
    }

    /** The wire is gone: fail outstanding work as exhausted retries would, after announcing the cause. */
    synchronized void onLinkFailure(Runnable announce) {
        if (state == QpState.RTS) {
            requester.onLinkFailure(announce);
        } else {
            enterError(announce);
        }
    }

    // ---- used by the requester and responder ---------------------------------------------------------------

    void transmit(Frame frame, Gather payload) {
        Wire current;
        synchronized (this) {
            current = wire;
        }
        if (current != null) {
            current.send(frame, payload);
        }
    }

    /** The requester exhausted its retries: the wire gives up a dead path (see {@link Wire#retriesExhausted()}). */
    void retriesExhausted() {
        Wire current;
        synchronized (this) {
            current = wire;
        }
        if (current != null) {
            current.retriesExhausted();
        }
    }

    /** Runs a task under this queue pair's monitor after a delay, unless the queue pair is in ERR by then. */
    ScheduledFuture<?> schedule(Duration delay, Runnable task) {
        return device.schedule(delay, () -> {
            synchronized (this) {
                if (state != QpState.ERR) {
                    task.run();
                }
            }
        });
    }

    void completeSend(SendQueueEntry entry, WcStatus status, int byteLength) {
        completeSend(entry.request(), status, byteLength);
    }

    private void completeSend(SendWorkRequest request, WcStatus status, int byteLength) {
        // Errors always complete; successes only when signaled (man ibv_post_send, IBV_SEND_SIGNALED/sq_sig_all).
        if (status == WcStatus.SUCCESS && !request.signaled() && !attributes.signalAll()) {
            return;
        }
        sendCq.add(new Completion(request.wrId(), status, request.opcode().completionOpcode(), byteLength, 0, false,
                qpNumber));
    }

    void completeReceive(ReceiveWorkRequest request, WcStatus status, WcOpcode opcode, int byteLength, int immediate,
                         boolean hasImmediate) {
        receiveCq.add(new Completion(request.wrId(), status, opcode, byteLength, immediate, hasImmediate, qpNumber));
    }

    @Override
    public String toString() {
        return "SoftQueuePair[qp=" + qpNumber + ", state=" + state + "]";
    }
}
