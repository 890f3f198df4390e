package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.verbs.WcStatus;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;

/**
 * The requester side of an RC queue pair (IB spec 9.7.4, 9.7.5.1): assigns PSNs, transmits, and completes work
 * requests in order as ACKs, NAKs and READ responses arrive. Retransmission is go-back-N from the oldest
 * unacknowledged PSN, after a PSN-sequence NAK, an RNR NAK (after the RNR timer) or the local ACK timeout.
 *
 * <p>Every method runs under the owning queue pair's monitor.
 */
final class RcRequester {

    /** {@code rnr_retry_count} 7 means "retry forever" (IB spec 9.7.5.2.8). */
    static final int RNR_RETRY_INFINITE = 7;
    /** The RNR NAK timer: how long the requester waits before retransmitting after an RNR NAK. */
    static final Duration RNR_DELAY = Duration.ofMillis(1);

    private final SoftQueuePair qp;
    private final ArrayDeque<SendQueueEntry> outstanding = new ArrayDeque<>();
    private long nextPsn;
    private int retryCount;
    private int rnrRetryCount;
    private int retriesLeft;
    private int rnrRetriesLeft;
    /** While an RNR NAK's timer runs nothing is transmitted; the timer retransmits everything outstanding. */
    private boolean rnrWaiting;
    private ScheduledFuture<?> ackTimer;
    private long lastProgressNanos;

    RcRequester(SoftQueuePair qp, long initialPsn) {
        this.qp = qp;
        this.nextPsn = initialPsn;
    }

    void configure(int retries, int rnrRetries) {
        this.retryCount = retries;
        this.rnrRetryCount = rnrRetries;
        this.retriesLeft = retries;
        this.rnrRetriesLeft = rnrRetries;
    }

    int outstandingCount() {
        return outstanding.size();
    }

    long allocatePsn() {
        return nextPsn++;
    }

    void post(SendQueueEntry entry) {
        if (outstanding.isEmpty()) {
            lastProgressNanos = System.nanoTime();
        }
        outstanding.add(entry);
        if (!rnrWaiting) {
            transmit(entry);
        }
        armAckTimer();
    }

    private void transmit(SendQueueEntry entry) {
        qp.transmit(entry.frame(), entry.gather());
    }

    /** An ACK: every request up to and including {@code psn} was executed by the responder. */
    void onAck(long psn) {
        acknowledgeThrough(psn);
    }

    /**
     * Completes the outstanding requests up to {@code psn}. A READ without its response cannot be completed by an
     * ACK: a later ACK means the response was lost, an implicit NAK, so everything from it is retransmitted.
     *
     * @return {@code false} when a retransmission was started
     */
    private boolean acknowledgeThrough(long psn) {
        boolean progress = false;
        while (!outstanding.isEmpty() && outstanding.peek().psn() <= psn) {
            SendQueueEntry head = outstanding.peek();
            if (head.isRead()) {
                retransmitAll();
                return false;
            }
            outstanding.poll();
            qp.completeSend(head, WcStatus.SUCCESS, 0);
            progress = true;
        }
        if (progress) {
            progress();
        }
        return true;
    }

    private void progress() {
        lastProgressNanos = System.nanoTime();
        retriesLeft = retryCount;
        rnrRetriesLeft = rnrRetryCount;
    }

    /** An RDMA READ response: place the bytes into the READ's scatter list, then complete it. */
    void onReadResponse(long psn, Payload payload) {
        if (!acknowledgeThrough(psn - 1)) {
            return;
        }
        SendQueueEntry head = outstanding.peek();
        if (head == null || head.psn() != psn || !head.isRead()) {
            return; // a duplicate response to a retransmitted READ: the fabric discards its bytes
        }
        List<MemorySegment> targets = head.readTargets();
        for (int i = 0; i < targets.size(); i++) {
            SoftMemoryRegion region = head.readRegions().get(i);
            if (!region.pin()) {
                fail(head, WcStatus.LOC_PROT_ERR);
                return;
            }
            try {
                MemorySegment target = targets.get(i);
                payload.placeInto(target.asSlice(0, Math.min(target.byteSize(), payload.remaining())));
            } catch (IOException e) {
                return; // the link failed; the wire reports it and the queue pair fails the request
            } finally {
                region.unpin();
            }
        }
        outstanding.poll();
        qp.completeSend(head, WcStatus.SUCCESS, (int) head.request().totalLength());
        progress();
    }

    /** A NAK: the requests before {@code psn} were executed, the one at {@code psn} was refused. */
    void onNak(long psn, Frame.NakCode code) {
        if (!acknowledgeThrough(psn - 1)) {
            return;
        }
        SendQueueEntry head = outstanding.peek();
        if (head == null || head.psn() != psn) {
            return; // stale: answered a request that has been retransmitted meanwhile
        }
        switch (code) {
            case RNR -> onRnrNak(head);
            case PSN_SEQUENCE_ERROR -> retransmitAll();
            case INVALID_REQUEST -> fail(head, WcStatus.REM_INV_REQ_ERR);
            case REMOTE_ACCESS_ERROR -> fail(head, WcStatus.REM_ACCESS_ERR);
            case REMOTE_OPERATIONAL_ERROR -> fail(head, WcStatus.REM_OP_ERR);
        }
    }

    private void onRnrNak(SendQueueEntry head) {
        if (rnrRetryCount != RNR_RETRY_INFINITE) {
            if (rnrRetriesLeft == 0) {
                // QEMU runs with rnr_retry_count 0: the first RNR NAK is fatal (qemu-rdma-protocol.md 2.2).
                fail(head, WcStatus.RNR_RETRY_EXC_ERR);
                return;
            }
            rnrRetriesLeft--;
        }
        rnrWaiting = true;
        qp.schedule(RNR_DELAY, () -> {
            if (rnrWaiting) {
                rnrWaiting = false;
                lastProgressNanos = System.nanoTime();
                retransmitAll();
            }
        });
    }

    private void retransmitAll() {
        for (SendQueueEntry entry : outstanding) {
            transmit(entry);
        }
    }

    private void armAckTimer() {
        if (ackTimer == null && !outstanding.isEmpty()) {
            ackTimer = qp.schedule(qp.ackTimeout(), this::onAckTimer);
        }
    }

    private void onAckTimer() {
        ackTimer = null;
        if (outstanding.isEmpty() || qp.isInError()) {
            return;
        }
        long timeoutNanos = qp.ackTimeout().toNanos();
        long idle = System.nanoTime() - lastProgressNanos;
        if (rnrWaiting || idle < timeoutNanos) {
            ackTimer = qp.schedule(Duration.ofNanos(Math.max(timeoutNanos - idle, 1_000_000)), this::onAckTimer);
            return;
        }
        if (retriesLeft == 0) {
            // The path is dead: the wire lets go of the payloads it may still be reading before the completions
            // tell the application that these requests are finished.
            qp.retriesExhausted();
            fail(outstanding.peek(), WcStatus.RETRY_EXC_ERR);
            return;
        }
        retriesLeft--;
        lastProgressNanos = System.nanoTime();
        retransmitAll();
        armAckTimer();
    }

    /**
     * Fails one request with {@code status}, flushes the others and moves the queue pair to ERR
     * (IB spec 10.8.3.3: a requester error completes the WR in error, the QP enters the error state).
     */
    void fail(SendQueueEntry failed, WcStatus status) {
        fail(failed, status, null);
    }

    private void fail(SendQueueEntry failed, WcStatus status, Runnable announce) {
        List<SendQueueEntry> entries = new ArrayList<>(outstanding);
        outstanding.clear();
        qp.enterError(announce);
        for (SendQueueEntry entry : entries) {
            qp.completeSend(entry, entry == failed ? status : WcStatus.WR_FLUSH_ERR, 0);
        }
        if (!entries.contains(failed)) {
            qp.completeSend(failed, status, 0);
        }
    }

    /** Fails the request with the given PSN (a local error found at transmit time). */
    void failPsn(long psn, WcStatus status) {
        for (SendQueueEntry entry : outstanding) {
            if (entry.psn() == psn) {
                fail(entry, status);
                return;
            }
        }
    }

    /** The queue pair entered ERR: flush every outstanding request, oldest first. */
    void flush() {
        cancelTimer();
        rnrWaiting = false;
        List<SendQueueEntry> entries = new ArrayList<>(outstanding);
        outstanding.clear();
        for (SendQueueEntry entry : entries) {
            qp.completeSend(entry, WcStatus.WR_FLUSH_ERR, 0);
        }
    }

    /** The link is gone: no ACK will ever come, which a real requester learns when its retries run out. */
    void onLinkFailure(Runnable announce) {
        if (outstanding.isEmpty()) {
            qp.enterError(announce);
        } else {
            fail(outstanding.peek(), WcStatus.RETRY_EXC_ERR, announce);
        }
    }

    private void cancelTimer() {
        if (ackTimer != null) {
            ackTimer.cancel(false);
            ackTimer = null;
        }
    }
}
