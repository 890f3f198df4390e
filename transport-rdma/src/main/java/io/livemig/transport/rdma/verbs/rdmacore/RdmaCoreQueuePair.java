package io.livemig.transport.rdma.verbs.rdmacore;

import static java.lang.foreign.ValueLayout.ADDRESS;

import io.livemig.transport.rdma.unix.NativeIoException;
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
import io.livemig.transport.rdma.verbs.WorkCompletion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A reliable-connected queue pair created by {@code rdma_create_qp}, owned by its {@link RdmaCoreCmId}.
 *
 * <p>The data path is allocation-free: one {@code struct ibv_send_wr} with its SGE array and one
 * {@code struct ibv_recv_wr} with its own are allocated with the queue pair and rewritten for every post, then
 * handed to {@code ops.post_send}/{@code ops.post_recv} (what the inline {@code ibv_post_send}/{@code ibv_post_recv}
 * call). The provider copies the request into its own queue before returning ({@code man ibv_post_send}: "the
 * work request structures may be reused after the call returns"), so one struct per direction suffices.
 */
// reinterpret() of pointers libibverbs/librdmacm return is restricted; native access is enabled for the JVM.
@SuppressWarnings("restricted")
final class RdmaCoreQueuePair implements QueuePair {

    private static final SendOpcode[] OPCODES = SendOpcode.values();
    private static final int RECEIVE_KIND = 0;

    private final RdmaCoreCmId owner;
    private final MemorySegment qp;
    private final int qpNumber;
    private final QpInitAttributes attributes;
    private final RdmaCoreCompletionQueue sendCq;
    private final RdmaCoreCompletionQueue receiveCq;
    private final MemorySegment postSendFn;
    private final MemorySegment postRecvFn;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment sendWr = arena.allocate(VerbsStructs.IBV_SEND_WR);
    private final MemorySegment sendSges;
    private final MemorySegment recvWr = arena.allocate(VerbsStructs.IBV_RECV_WR);
    private final MemorySegment recvSges;
    private final MemorySegment badSendWr = arena.allocate(ADDRESS);
    private final MemorySegment badRecvWr = arena.allocate(ADDRESS);
    private final MemorySegment qpAttr = arena.allocate(VerbsStructs.IBV_QP_ATTR);
    private final MemorySegment qpInitAttr = arena.allocate(VerbsStructs.IBV_QP_INIT_ATTR);
    private final WorkQueue sends;
    private final WorkQueue receives;
    private final Object sendLock = new Object();
    private final Object receiveLock = new Object();
    /** Set once the queue pair was seen in RTS; from then on posting needs no state query (ERR flushes). */
    private volatile boolean readyToSend;
    private volatile boolean destroyed;

    RdmaCoreQueuePair(RdmaCoreCmId owner, MemorySegment qp, QpInitAttributes attributes,
                      RdmaCoreCompletionQueue sendCq, RdmaCoreCompletionQueue receiveCq) {
        this.owner = owner;
        this.qp = qp.reinterpret(VerbsStructs.IBV_QP.byteSize());
        this.qpNumber = (int) VerbsStructs.QP_QP_NUM.get(this.qp, 0L);
        this.attributes = attributes;
        this.sendCq = sendCq;
        this.receiveCq = receiveCq;
        MemorySegment context = sendCq.device().context();
        this.postSendFn = (MemorySegment) VerbsStructs.OPS_POST_SEND.get(context, 0L);
        this.postRecvFn = (MemorySegment) VerbsStructs.OPS_POST_RECV.get(context, 0L);
        this.sendSges = arena.allocate(VerbsStructs.IBV_SGE, attributes.maxSendSge());
        this.recvSges = arena.allocate(VerbsStructs.IBV_SGE, attributes.maxReceiveSge());
        this.sends = new WorkQueue(attributes.maxSendWr());
        this.receives = new WorkQueue(attributes.maxReceiveWr());
        VerbsStructs.SEND_SG_LIST.set(sendWr, 0L, sendSges);
        VerbsStructs.SEND_NEXT.set(sendWr, 0L, MemorySegment.NULL);
        VerbsStructs.RECV_SG_LIST.set(recvWr, 0L, recvSges);
        VerbsStructs.RECV_NEXT.set(recvWr, 0L, MemorySegment.NULL);
        sendCq.attach(this);
        if (receiveCq != sendCq) {
            receiveCq.attach(this);
        }
    }

    @Override
    public int qpNumber() {
        return qpNumber;
    }

    @Override
    public QpState state() {
        synchronized (qpAttr) {
            if (destroyed) {
                return QpState.ERR; // destroy moved it to ERR first
            }
            try {
                int errno = (int) Ibv.QUERY_QP.invokeExact(qp, qpAttr, VerbsStructs.IBV_QP_STATE, qpInitAttr);
                if (errno != 0) {
                    return QpState.ERR;
                }
            } catch (Throwable t) {
                throw Errors.unexpected(t);
            }
            // enum ibv_qp_state: RESET, INIT, RTR, RTS, SQD, SQE, ERR, UNKNOWN
            return switch ((int) VerbsStructs.QP_ATTR_STATE.get(qpAttr, 0L)) {
                case 0 -> QpState.RESET;
                case 1 -> QpState.INIT;
                case 2 -> QpState.RTR;
                case 3, 4 -> QpState.RTS;
                default -> QpState.ERR;
            };
        }
    }

    @Override
    public QpInitAttributes attributes() {
        return attributes;
    }

    @Override
    public void postSend(SendWorkRequest request) throws InvalidWorkRequestException {
        List<ScatterGatherElement> sges = request.sges();
        validate(request, sges);
        synchronized (sendLock) {
            checkNotDestroyed("ibv_post_send");
            if (!readyToSend) {
                QpState state = state();
                if (state == QpState.RESET || state == QpState.INIT || state == QpState.RTR) {
                    throw new InvalidWorkRequestException("ibv_post_send: queue pair " + qpNumber + " is in state "
                            + state + "; sends need RTS");
                }
                readyToSend = true;
            }
            if (sends.isFull()) {
                throw new InvalidWorkRequestException("ibv_post_send: send queue of queue pair " + qpNumber
                        + " is full (" + sends.depth() + " outstanding work requests)");
            }
            long sequence = sends.reserve(request.wrId(), request.opcode().ordinal());
            int flags = (request.signaled() ? VerbsStructs.IBV_SEND_SIGNALED : 0)
                    | (request.inline() ? VerbsStructs.IBV_SEND_INLINE : 0);
            VerbsStructs.SEND_WR_ID.set(sendWr, 0L, sequence);
            VerbsStructs.SEND_NUM_SGE.set(sendWr, 0L, sges.size());
            VerbsStructs.SEND_OPCODE.set(sendWr, 0L, request.opcode().value());
            VerbsStructs.SEND_FLAGS.set(sendWr, 0L, flags);
            // imm_data is __be32 on the wire and in the struct (verbs.h).
            VerbsStructs.SEND_IMM_DATA.set(sendWr, 0L, Integer.reverseBytes(request.immediateData()));
            VerbsStructs.SEND_REMOTE_ADDR.set(sendWr, 0L, request.remoteAddress());
            VerbsStructs.SEND_RKEY.set(sendWr, 0L, request.rkey());
            fillSges(sendSges, sges);
            int errno;
            try {
                errno = (int) Ibv.POST_SEND.invokeExact(postSendFn, qp, sendWr, badSendWr);
            } catch (Throwable t) {
                throw Errors.unexpected(t);
            }
            if (errno != 0) {
                sends.unreserve();
                throw new InvalidWorkRequestException(new NativeIoException("ibv_post_send", errno).getMessage()
                        + " for queue pair " + qpNumber);
            }
        }
    }

    private void validate(SendWorkRequest request, List<ScatterGatherElement> sges)
            throws InvalidWorkRequestException {
        if (sges.size() > attributes.maxSendSge()) {
            throw new InvalidWorkRequestException("ibv_post_send: " + sges.size() + " SGEs exceed max_send_sge "
                    + attributes.maxSendSge() + " of queue pair " + qpNumber);
        }
        long total = request.totalLength();
        if (total > Integer.toUnsignedLong(-1)) {
            throw new InvalidWorkRequestException("ibv_post_send: message of " + total + " bytes exceeds 2^32 - 1");
        }
        if (request.inline() && (request.opcode() == SendOpcode.RDMA_READ || total > attributes.maxInlineData())) {
            throw new InvalidWorkRequestException("ibv_post_send: inline " + request.opcode() + " of " + total
                    + " bytes refused (max_inline_data " + attributes.maxInlineData() + ", READ cannot be inline)");
        }
    }

    private static void fillSges(MemorySegment array, List<ScatterGatherElement> sges) {
        long stride = VerbsStructs.IBV_SGE.byteSize();
        for (int i = 0; i < sges.size(); i++) {
            ScatterGatherElement sge = sges.get(i);
            VerbsStructs.SGE_ADDR.set(array, i * stride, sge.address());
            VerbsStructs.SGE_LENGTH.set(array, i * stride, sge.length());
            VerbsStructs.SGE_LKEY.set(array, i * stride, sge.lkey());
        }
    }

    @Override
    public void postReceive(ReceiveWorkRequest request) throws InvalidWorkRequestException {
        List<ScatterGatherElement> sges = request.sges();
        if (sges.size() > attributes.maxReceiveSge()) {
            throw new InvalidWorkRequestException("ibv_post_recv: " + sges.size() + " SGEs exceed max_recv_sge "
                    + attributes.maxReceiveSge() + " of queue pair " + qpNumber);
        }
        synchronized (receiveLock) {
            checkNotDestroyed("ibv_post_recv");
            if (receives.isFull()) {
                throw new InvalidWorkRequestException("ibv_post_recv: receive queue of queue pair " + qpNumber
                        + " is full (" + receives.depth() + " posted work requests)");
            }
            long sequence = receives.reserve(request.wrId(), RECEIVE_KIND);
            VerbsStructs.RECV_WR_ID.set(recvWr, 0L, sequence | WorkQueue.RECEIVE_BIT);
            VerbsStructs.RECV_NUM_SGE.set(recvWr, 0L, sges.size());
            fillSges(recvSges, sges);
            int errno;
            try {
                errno = (int) Ibv.POST_RECV.invokeExact(postRecvFn, qp, recvWr, badRecvWr);
            } catch (Throwable t) {
                throw Errors.unexpected(t);
            }
            if (errno != 0) {
                receives.unreserve();
                throw new InvalidWorkRequestException(new NativeIoException("ibv_post_recv", errno).getMessage()
                        + " for queue pair " + qpNumber);
            }
        }
    }

    private void checkNotDestroyed(String call) throws InvalidWorkRequestException {
        if (destroyed) {
            throw new InvalidWorkRequestException(call + ": queue pair " + qpNumber + " is destroyed");
        }
    }

    /**
     * Fills {@code into} from a native completion of this queue pair, mapping the sequence back to the caller's id.
     * For an error completion only id, status and queue pair are defined in verbs ({@code man ibv_poll_cq}); the
     * opcode reported is the one posted, and length and immediate are zero.
     */
    void complete(WorkCompletion into, long wrId, WcStatus status, int nativeOpcode, int byteLength, int immediate,
                  boolean hasImmediate) {
        long sequence = wrId & ~WorkQueue.RECEIVE_BIT;
        boolean success = status == WcStatus.SUCCESS;
        if ((wrId & WorkQueue.RECEIVE_BIT) != 0) {
            long userId = receives.userId(sequence);
            receives.retireThrough(sequence);
            WcOpcode opcode = success && nativeOpcode == VerbsStructs.IBV_WC_RECV_RDMA_WITH_IMM
                    ? WcOpcode.RECV_RDMA_WITH_IMM : WcOpcode.RECV;
            into.set(userId, status, opcode, success ? byteLength : 0, success && hasImmediate ? immediate : 0,
                    success && hasImmediate, qpNumber);
        } else {
            long userId = sends.userId(sequence);
            SendOpcode posted = OPCODES[sends.kind(sequence)];
            sends.retireThrough(sequence);
            into.set(userId, status, posted.completionOpcode(), success ? byteLength : 0, 0, false, qpNumber);
        }
    }

    @Override
    public void moveToError() {
        synchronized (qpAttr) {
            if (destroyed) {
                return;
            }
            VerbsStructs.QP_ATTR_STATE.set(qpAttr, 0L, VerbsStructs.IBV_QPS_ERR);
            try {
                int ignored = (int) Ibv.MODIFY_QP.invokeExact(qp, qpAttr, VerbsStructs.IBV_QP_STATE);
            } catch (Throwable t) {
                throw Errors.unexpected(t);
            }
        }
    }

    /** Whether {@link #destroy} ran. */
    boolean isDestroyed() {
        return destroyed;
    }

    /**
     * Moves to ERR, lets {@code rdma_destroy_qp} free the queue pair, and releases the work-request memory. Called by
     * the owning identifier with its lock held.
     */
    void destroy() {
        synchronized (sendLock) {
            synchronized (receiveLock) {
                if (destroyed) {
                    return;
                }
                moveToError();
                synchronized (qpAttr) {
                    destroyed = true;
                }
                sendCq.detach(this);
                receiveCq.detach(this);
                owner.destroyNativeQueuePair();
                arena.close();
            }
        }
    }

    @Override
    public void close() {
        owner.closeQueuePair(this);
    }

    @Override
    public String toString() {
        return "RdmaCoreQueuePair[" + qpNumber + "]";
    }
}
