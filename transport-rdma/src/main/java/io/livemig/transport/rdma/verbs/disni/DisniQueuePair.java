package io.livemig.transport.rdma.verbs.disni;

import com.ibm.disni.verbs.IbvQP;
import com.ibm.disni.verbs.IbvRecvWR;
import com.ibm.disni.verbs.IbvSendWR;
import com.ibm.disni.verbs.IbvSge;
import com.ibm.disni.verbs.SVCPostRecv;
import com.ibm.disni.verbs.SVCPostSend;
import com.ibm.disni.verbs.impl.NatObject;
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
import io.livemig.transport.rdma.verbs.rdmacore.WorkQueue;

import java.io.IOException;
import java.util.HashMap;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A queue pair created by DiSNI ({@code RdmaCmId.createQP}), posted to with DiSNI's stateful verb calls.
 *
 * <p>Sends reuse one {@code SVCPostSend} per shape (opcode and SGE count): DiSNI serialises the work request once
 * and the provider patches {@code wr_id}, flags, remote address, rkey and SGEs in place for each post. DiSNI cannot
 * patch the opcode or the immediate, so a {@code _WITH_IMM} send, and every receive (whose modifier only reads the
 * {@code wr_id}), is serialised for its post and freed after it.
 *
 * <p>The accounting is the verbs provider's {@link WorkQueue}, exact at the caller's depth. The native {@code wr_id}
 * is {@code [receive bit][queue pair index: 23 bits][sequence: 40 bits]}, so that a completion finds its queue pair
 * even where DiSNI leaves {@code qp_num} unset (error completions).
 */
final class DisniQueuePair implements QueuePair {

    private static final SendOpcode[] OPCODES = SendOpcode.values();
    private static final AtomicInteger INDEXES = new AtomicInteger();
    private static final int INDEX_BITS = 23;
    private static final int SEQUENCE_BITS = 40;
    private static final long SEQUENCE_MASK = (1L << SEQUENCE_BITS) - 1;
    private static final int IBV_SEND_SIGNALED = 1 << 1;
    private static final int IBV_SEND_INLINE = 1 << 3;

    private final DisniCmId owner;
    private final IbvQP qp;
    private final long pointer;
    private final int qpNumber;
    private final int index;
    private final QpInitAttributes attributes;
    private final DisniCompletionQueue sendCq;
    private final DisniCompletionQueue receiveCq;
    private final WorkQueue sends;
    private final WorkQueue receives;
    private final Map<Integer, SVCPostSend> sendCalls = new HashMap<>();
    private final Object sendLock = new Object();
    private final Object receiveLock = new Object();
    private volatile boolean readyToSend;
    private volatile boolean destroyed;

    DisniQueuePair(DisniCmId owner, IbvQP qp, QpInitAttributes attributes, DisniCompletionQueue sendCq,
                   DisniCompletionQueue receiveCq) throws IOException {
        this.owner = owner;
        this.qp = qp;
        this.pointer = ((NatObject) qp).getObjId();
        this.qpNumber = qp.getQp_num();
        this.index = INDEXES.incrementAndGet() & ((1 << INDEX_BITS) - 1);
        this.attributes = attributes;
        this.sendCq = sendCq;
        this.receiveCq = receiveCq;
        this.sends = new WorkQueue(attributes.maxSendWr());
        this.receives = new WorkQueue(attributes.maxReceiveWr());
        sendCq.attach(this);
        if (receiveCq != sendCq) {
            receiveCq.attach(this);
        }
    }

    int index() {
        return index;
    }

    static int queuePairIndex(long wrId) {
        return (int) ((wrId >>> SEQUENCE_BITS) & ((1 << INDEX_BITS) - 1));
    }

    private long wrId(long sequence, boolean receive) {
        return (receive ? WorkQueue.RECEIVE_BIT : 0) | ((long) index << SEQUENCE_BITS) | (sequence & SEQUENCE_MASK);
    }

    @Override
    public int qpNumber() {
        return qpNumber;
    }

    @Override
    public QpState state() {
        synchronized (receiveLock) {
            if (destroyed) {
                return QpState.ERR;
            }
            // enum ibv_qp_state: RESET, INIT, RTR, RTS, SQD, SQE, ERR, UNKNOWN
            return switch (DisniNative.queryState(pointer)) {
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
            // libdisni creates every queue pair with sq_sig_all 0: signalAll is kept by signaling each request.
            int flags = (request.signaled() || attributes.signalAll() ? IBV_SEND_SIGNALED : 0)
                    | (request.inline() ? IBV_SEND_INLINE : 0);
            try {
                post(request, sges, wrId(sequence, false), flags);
            } catch (IOException | RuntimeException e) {
                sends.unreserve();
                throw new InvalidWorkRequestException("ibv_post_send: " + e.getMessage() + " for queue pair "
                        + qpNumber);
            }
        }
    }

    private void post(SendWorkRequest request, List<ScatterGatherElement> sges, long nativeId, int flags)
            throws IOException {
        SendOpcode opcode = request.opcode();
        boolean immediate = opcode == SendOpcode.SEND_WITH_IMM || opcode == SendOpcode.RDMA_WRITE_WITH_IMM;
        if (immediate) {
            SVCPostSend call = qp.postSend(List.of(sendWr(request, sges, nativeId, flags)), null);
            try {
                call.execute();
            } finally {
                call.free();
            }
            return;
        }
        int shape = opcode.ordinal() * 8 + sges.size();
        SVCPostSend call = sendCalls.get(shape);
        if (call == null) {
            call = qp.postSend(List.of(sendWr(request, sges, nativeId, flags)), null);
            sendCalls.put(shape, call);
        } else {
            SVCPostSend.SendWRMod wr = call.getWrMod(0);
            wr.setWr_id(nativeId);
            wr.setSend_flags(flags);
            wr.getRdmaMod().setRemote_addr(request.remoteAddress());
            wr.getRdmaMod().setRkey(request.rkey());
            for (int i = 0; i < sges.size(); i++) {
                ScatterGatherElement sge = sges.get(i);
                SVCPostSend.SgeMod mod = wr.getSgeMod(i);
                mod.setAddr(sge.address());
                mod.setLength(sge.length());
                mod.setLkey(sge.lkey());
            }
        }
        call.execute();
    }

    private static IbvSendWR sendWr(SendWorkRequest request, List<ScatterGatherElement> sges, long nativeId,
                                    int flags) {
        IbvSendWR wr = new IbvSendWR();
        wr.setWr_id(nativeId);
        wr.setOpcode(request.opcode().value());
        wr.setSend_flags(flags);
        // imm_data is __be32 (verbs.h); DiSNI writes the int in native order.
        wr.setImm_data(Integer.reverseBytes(request.immediateData()));
        wr.getRdma().setRemote_addr(request.remoteAddress());
        wr.getRdma().setRkey(request.rkey());
        wr.setSg_list(sgeList(sges));
        wr.setNum_sge(sges.size());
        return wr;
    }

    private static LinkedList<IbvSge> sgeList(List<ScatterGatherElement> sges) {
        LinkedList<IbvSge> list = new LinkedList<>();
        for (ScatterGatherElement sge : sges) {
            IbvSge nativeSge = new IbvSge();
            nativeSge.setAddr(sge.address());
            nativeSge.setLength(sge.length());
            nativeSge.setLkey(sge.lkey());
            list.add(nativeSge);
        }
        return list;
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
            long sequence = receives.reserve(request.wrId(), 0);
            IbvRecvWR wr = new IbvRecvWR();
            wr.setWr_id(wrId(sequence, true));
            wr.setSg_list(sgeList(sges));
            wr.setNum_sge(sges.size());
            SVCPostRecv call = null;
            try {
                call = qp.postRecv(List.of(wr), null);
                call.execute();
            } catch (IOException | RuntimeException e) {
                receives.unreserve();
                throw new InvalidWorkRequestException("ibv_post_recv: " + e.getMessage() + " for queue pair "
                        + qpNumber);
            } finally {
                if (call != null) {
                    call.free();
                }
            }
        }
    }

    private void checkNotDestroyed(String call) throws InvalidWorkRequestException {
        if (destroyed) {
            throw new InvalidWorkRequestException(call + ": queue pair " + qpNumber + " is destroyed");
        }
    }

    /**
     * Fills {@code into} from a native completion of this queue pair. For an error completion only id, status and
     * queue pair are defined in verbs; the opcode reported is the one posted, length and immediate are zero.
     */
    void complete(WorkCompletion into, long wrId, WcStatus status, boolean receivedWriteWithImmediate,
                  int byteLength, int immediate, boolean hasImmediate) {
        long sequence = wrId & SEQUENCE_MASK;
        boolean success = status == WcStatus.SUCCESS;
        if ((wrId & WorkQueue.RECEIVE_BIT) != 0) {
            long userId = receives.userId(sequence);
            receives.retireThrough(sequence);
            into.set(userId, status, receivedWriteWithImmediate ? WcOpcode.RECV_RDMA_WITH_IMM : WcOpcode.RECV,
                    byteLength, hasImmediate ? immediate : 0, hasImmediate, qpNumber);
        } else {
            long userId = sends.userId(sequence);
            SendOpcode posted = OPCODES[sends.kind(sequence)];
            sends.retireThrough(sequence);
            into.set(userId, status, posted.completionOpcode(), success ? byteLength : 0, 0, false, qpNumber);
        }
    }

    @Override
    public void moveToError() {
        synchronized (receiveLock) {
            if (destroyed) {
                return;
            }
            int ignored = DisniNative.moveToError(pointer);
        }
    }

    boolean isDestroyed() {
        return destroyed;
    }

    /** Moves to ERR, frees the cached calls and lets {@code rdma_destroy_qp} free the queue pair. */
    void destroy() {
        synchronized (sendLock) {
            synchronized (receiveLock) {
                if (destroyed) {
                    return;
                }
                DisniNative.moveToError(pointer);
                destroyed = true;
                for (SVCPostSend call : sendCalls.values()) {
                    call.free();
                }
                sendCalls.clear();
                sendCq.detach(this);
                receiveCq.detach(this);
                owner.destroyNativeQueuePair();
            }
        }
    }

    @Override
    public void close() {
        owner.closeQueuePair(this);
    }

    @Override
    public String toString() {
        return "DisniQueuePair[" + qpNumber + "]";
    }
}
