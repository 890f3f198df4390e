package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.ReceiveWorkRequest;
import io.livemig.transport.rdma.verbs.ScatterGatherElement;
import io.livemig.transport.rdma.verbs.SendOpcode;
import io.livemig.transport.rdma.verbs.WcOpcode;
import io.livemig.transport.rdma.verbs.WcStatus;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The responder side of an RC queue pair (IB spec 9.7.4.1, 9.7.5.2): executes requests strictly in PSN order,
 * acknowledges each one, answers duplicates, and NAKs what it cannot execute.
 *
 * <p>{@link #onRequest} runs on the wire's delivery thread only, so the expected PSN needs no lock; the receive
 * queue is shared with posting threads and guarded by its own monitor.
 */
final class RcResponder {

    private final SoftQueuePair qp;
    private final ArrayDeque<ReceiveWorkRequest> receives = new ArrayDeque<>();
    private long expectedPsn;
    /** After a NAK, later packets are out of sequence; they are dropped silently until the retransmission. */
    private boolean nakOutstanding;
    /** The successful receive completion of the request being executed, run once its ACK is transmitted. */
    private Runnable completeAfterAck;

    RcResponder(SoftQueuePair qp) {
        this.qp = qp;
    }

    void start(long peerInitialPsn) {
        this.expectedPsn = peerInitialPsn;
    }

    /** Queues a receive; the caller checked the state and validated the request. */
    boolean post(ReceiveWorkRequest request, int maxReceiveWr) {
        synchronized (receives) {
            if (receives.size() >= maxReceiveWr) {
                return false;
            }
            receives.add(request);
            return true;
        }
    }

    private ReceiveWorkRequest takeReceive() {
        synchronized (receives) {
            return receives.poll();
        }
    }

    /** Flushes every posted receive with WR_FLUSH_ERR, oldest first. */
    void flush() {
        List<ReceiveWorkRequest> flushed;
        synchronized (receives) {
            flushed = new ArrayList<>(receives);
            receives.clear();
        }
        for (ReceiveWorkRequest request : flushed) {
            qp.completeReceive(request, WcStatus.WR_FLUSH_ERR, WcOpcode.RECV, 0, 0, false);
        }
    }

    void onRequest(Frame.RcRequest request, Payload payload) {
        if (!qp.canRespond()) {
            return; // RESET/INIT drop silently; ERR answers nothing, the requester times out (IB spec 10.3.1)
        }
        long psn = request.psn();
        if (psn < expectedPsn) {
            // A duplicate (IB spec 9.7.5.2.2): its ACK was lost or it was retransmitted; READs are re-executed.
            if (request.opcode() == SendOpcode.RDMA_READ) {
                executeRead(request);
            } else {
                qp.transmit(Frame.RcResponse.ack(expectedPsn - 1), Gather.EMPTY);
            }
            return;
        }
        if (psn > expectedPsn) {
            if (!nakOutstanding) {
                nakOutstanding = true;
                qp.transmit(Frame.RcResponse.nak(expectedPsn, Frame.NakCode.PSN_SEQUENCE_ERROR), Gather.EMPTY);
            }
            return;
        }
        nakOutstanding = false;
        boolean executed = switch (request.opcode()) {
            case SEND, SEND_WITH_IMM -> executeSend(request, payload);
            case RDMA_WRITE, RDMA_WRITE_WITH_IMM -> executeWrite(request, payload);
            case RDMA_READ -> executeRead(request);
        };
        if (executed) {
            expectedPsn++;
            if (request.opcode() != SendOpcode.RDMA_READ) {
                qp.transmit(Frame.RcResponse.ack(psn), Gather.EMPTY);
            }
            // The receive completes only after the ACK is on its way: an application that consumes the message
            // and destroys its QP at once must not keep the requester from learning that its SEND arrived.
            Runnable completion = completeAfterAck;
            completeAfterAck = null;
            if (completion != null) {
                completion.run();
            }
        }
    }

    private boolean executeSend(Frame.RcRequest request, Payload payload) {
        ReceiveWorkRequest receive = takeReceive();
        if (receive == null) {
            return rnr(request);
        }
        int length = request.dmaLength();
        if (Integer.toUnsignedLong(length) > receive.totalLength()) {
            // IB spec 9.7.5.2.7: the receive completes in error, the requester sees an invalid-request NAK.
            return failWithReceive(request, receive, WcStatus.LOC_LEN_ERR, Frame.NakCode.INVALID_REQUEST);
        }
        long left = Integer.toUnsignedLong(length);
        for (ScatterGatherElement sge : receive.sges()) {
            if (left == 0) {
                break;
            }
            SoftMemoryRegion region = qp.pd().byLkey(sge.lkey());
            long piece = Math.min(left, sge.unsignedLength());
            if (region == null || !region.access().contains(AccessFlag.LOCAL_WRITE)
                    || !region.contains(sge.address(), piece) || !place(region, sge.address(), piece, payload)) {
                return failWithReceive(request, receive, WcStatus.LOC_PROT_ERR, Frame.NakCode.REMOTE_OPERATIONAL_ERROR);
            }
            left -= piece;
        }
        boolean immediate = request.opcode() == SendOpcode.SEND_WITH_IMM;
        completeAfterAck = () -> qp.completeReceive(receive, WcStatus.SUCCESS, WcOpcode.RECV, length,
                request.immediateData(), immediate);
        return true;
    }

    private boolean executeWrite(Frame.RcRequest request, Payload payload) {
        long length = Integer.toUnsignedLong(request.dmaLength());
        SoftMemoryRegion region = qp.pd().byRkey(request.rkey());
        if (region == null || !region.access().contains(AccessFlag.REMOTE_WRITE)
                || !region.contains(request.remoteAddress(), length)) {
            return remoteAccessError(request);
        }
        ReceiveWorkRequest receive = null;
        if (request.opcode() == SendOpcode.RDMA_WRITE_WITH_IMM) {
            // The receive is checked before any byte is placed: an RNR NAK must leave memory untouched.
            receive = takeReceive();
            if (receive == null) {
                return rnr(request);
            }
        }
        if (!place(region, request.remoteAddress(), length, payload)) {
            if (receive != null) {
                qp.completeReceive(receive, WcStatus.WR_FLUSH_ERR, WcOpcode.RECV_RDMA_WITH_IMM, 0, 0, false);
            }
            return remoteAccessError(request); // deregistered between lookup and placement
        }
        if (receive != null) {
            ReceiveWorkRequest consumed = receive;
            completeAfterAck = () -> qp.completeReceive(consumed, WcStatus.SUCCESS, WcOpcode.RECV_RDMA_WITH_IMM,
                    request.dmaLength(), request.immediateData(), true);
        }
        return true;
    }

    private boolean executeRead(Frame.RcRequest request) {
        long length = Integer.toUnsignedLong(request.dmaLength());
        SoftMemoryRegion region = qp.pd().byRkey(request.rkey());
        if (region == null || !region.access().contains(AccessFlag.REMOTE_READ)
                || !region.contains(request.remoteAddress(), length)) {
            return remoteAccessError(request);
        }
        long psn = request.psn();
        // The bytes are gathered when the fabric transmits them; a deregistration in between turns the response
        // into a remote-access NAK instead of a read of memory the owner may have freed.
        Gather gather = new Gather(List.of(region.slice(request.remoteAddress(), length)), List.of(region),
                () -> qp.transmit(Frame.RcResponse.nak(psn, Frame.NakCode.REMOTE_ACCESS_ERROR), Gather.EMPTY));
        qp.transmit(new Frame.RcResponse(Frame.ResponseKind.READ_RESPONSE, psn, null, request.dmaLength()), gather);
        return true;
    }

    /** Places payload bytes into registered memory, excluded from deregistration by the region's pin. */
    private boolean place(SoftMemoryRegion region, long address, long length, Payload payload) {
        if (!region.pin()) {
            return false;
        }
        try {
            payload.placeInto(region.slice(address, length));
            return true;
        } catch (IOException e) {
            return false; // the wire is failing; its handler moves the queue pair to ERR
        } finally {
            region.unpin();
        }
    }

    private boolean rnr(Frame.RcRequest request) {
        nakOutstanding = true;
        qp.transmit(Frame.RcResponse.nak(request.psn(), Frame.NakCode.RNR), Gather.EMPTY);
        return false;
    }

    private boolean remoteAccessError(Frame.RcRequest request) {
        // A class C responder error (IB spec 9.9.3.1.3): NAK, then the responder QP enters the error state too.
        qp.transmit(Frame.RcResponse.nak(request.psn(), Frame.NakCode.REMOTE_ACCESS_ERROR), Gather.EMPTY);
        qp.moveToError();
        return false;
    }

    private boolean failWithReceive(Frame.RcRequest request, ReceiveWorkRequest receive, WcStatus status,
                                    Frame.NakCode nak) {
        qp.completeReceive(receive, status, WcOpcode.RECV, 0, 0, false);
        qp.transmit(Frame.RcResponse.nak(request.psn(), nak), Gather.EMPTY);
        qp.moveToError();
        return false;
    }
}
