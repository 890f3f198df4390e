package io.livemig.transport.rdma.verbs.disni;

import com.ibm.disni.verbs.IbvCQ;
import com.ibm.disni.verbs.IbvWC;
import com.ibm.disni.verbs.SVCPollCq;
import com.ibm.disni.verbs.SVCReqNotify;
import com.ibm.disni.verbs.impl.NatObject;
import io.livemig.transport.rdma.verbs.CompletionQueue;
import io.livemig.transport.rdma.verbs.InvalidStateException;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.WcOpcode;
import io.livemig.transport.rdma.verbs.WcStatus;
import io.livemig.transport.rdma.verbs.WorkCompletion;

import java.io.IOException;
import java.util.Arrays;
import java.util.logging.Logger;

/**
 * A completion queue created by DiSNI ({@code IbvCQ}), polled with one cached {@code SVCPollCq} per batch size, as
 * DiSNI intends stateful verb calls to be used.
 *
 * <p>DiSNI's poll copies {@code qp_num}, {@code byte_len} and the immediate only for successful completions, so an
 * error completion would carry the previous one's queue pair. The owning queue pair is therefore encoded in the
 * native {@code wr_id} ({@link DisniQueuePair#wrId}), not looked up by {@code qp_num}.
 */
final class DisniCompletionQueue implements CompletionQueue {

    private static final Logger LOG = Logger.getLogger(DisniCompletionQueue.class.getName());
    private static final int BATCH = 64;
    private static final int MAX_STATUS = WcStatus.TM_RNDV_INCOMPLETE.value();
    private static final int IBV_WC_WITH_IMM = 1 << 1;
    private static final int IBV_WC_RECV_RDMA_WITH_IMM = 129;

    private final DisniDevice device;
    private final IbvCQ cq;
    private final long pointer;
    private final int capacity;
    private final DisniCompletionChannel channel;
    private final DisniCompletionChannel ownChannel;
    private final IbvWC[] wcs = new IbvWC[BATCH];
    private final SVCPollCq[] polls = new SVCPollCq[BATCH + 1];
    private SVCReqNotify notifyAll;
    private SVCReqNotify notifySolicited;
    private volatile DisniQueuePair[] queuePairs = new DisniQueuePair[0];
    private volatile boolean closed;

    private DisniCompletionQueue(DisniDevice device, IbvCQ cq, int capacity, DisniCompletionChannel channel,
                                 DisniCompletionChannel ownChannel) {
        this.device = device;
        this.cq = cq;
        this.pointer = ((NatObject) cq).getObjId();
        this.capacity = capacity;
        this.channel = channel;
        this.ownChannel = ownChannel;
        for (int i = 0; i < BATCH; i++) {
            wcs[i] = new IbvWC();
        }
    }

    static DisniCompletionQueue create(DisniDevice device, int capacity, DisniCompletionChannel channel,
                                       DisniCompletionChannel ownChannel) throws VerbsException {
        DisniCompletionChannel native_ = channel != null ? channel : ownChannel;
        try {
            IbvCQ cq = device.context().createCQ(native_.channel(), capacity, 0);
            DisniCompletionQueue created = new DisniCompletionQueue(device, cq, capacity, channel, ownChannel);
            native_.bind(created);
            return created;
        } catch (IOException e) {
            if (ownChannel != null) {
                ownChannel.close();
            }
            throw new VerbsException("ibv_create_cq: " + e.getMessage(), e);
        }
    }

    long pointer() {
        return pointer;
    }

    IbvCQ cq() {
        return cq;
    }

    synchronized void attach(DisniQueuePair qp) {
        DisniQueuePair[] grown = Arrays.copyOf(queuePairs, queuePairs.length + 1);
        grown[queuePairs.length] = qp;
        queuePairs = grown;
    }

    synchronized void detach(DisniQueuePair qp) {
        queuePairs = Arrays.stream(queuePairs).filter(q -> q != qp).toArray(DisniQueuePair[]::new);
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public synchronized int poll(WorkCompletion[] completions) throws VerbsException {
        if (closed) {
            throw new InvalidStateException("ibv_poll_cq: completion queue is closed");
        }
        int wanted = Math.min(completions.length, BATCH);
        if (wanted == 0) {
            return 0;
        }
        int polled;
        try {
            SVCPollCq call = polls[wanted];
            if (call == null) {
                call = cq.poll(wcs, wanted);
                polls[wanted] = call;
            }
            polled = call.execute().getPolls();
        } catch (IOException e) {
            throw new VerbsException("ibv_poll_cq: " + e.getMessage(), e);
        }
        if (polled < 0) {
            throw new VerbsException("ibv_poll_cq: failed with " + polled + " (completion queue overrun or device "
                    + "error)");
        }
        for (int i = 0; i < polled; i++) {
            translate(wcs[i], completions[i]);
        }
        return polled;
    }

    private void translate(IbvWC wc, WorkCompletion into) {
        int status = wc.getStatus();
        WcStatus wcStatus = status >= 0 && status <= MAX_STATUS ? WcStatus.valueOf(status) : WcStatus.GENERAL_ERR;
        boolean success = wcStatus == WcStatus.SUCCESS;
        // imm_data is __be32 (verbs.h) and DiSNI reads it in native order: the SPI reports it in host order.
        int immediate = Integer.reverseBytes(wc.getImm_data());
        boolean hasImmediate = success && (wc.getWc_flags() & IBV_WC_WITH_IMM) != 0;
        long wrId = wc.getWr_id();
        int index = DisniQueuePair.queuePairIndex(wrId);
        for (DisniQueuePair qp : queuePairs) {
            if (qp.index() == index) {
                qp.complete(into, wrId, wcStatus, success && wc.getOpcode() == IBV_WC_RECV_RDMA_WITH_IMM,
                        success ? wc.getByte_len() : 0, immediate, hasImmediate);
                return;
            }
        }
        // The queue pair is gone (destroyed with completions still queued): report what the device said.
        into.set(wrId, wcStatus, WcOpcode.SEND, 0, 0, false, success ? wc.getQp_num() : 0);
    }

    @Override
    public synchronized void requestNotification(boolean solicitedOnly) throws VerbsException {
        if (channel == null) {
            throw new InvalidStateException("ibv_req_notify_cq: the completion queue was created without a channel");
        }
        if (closed) {
            throw new InvalidStateException("ibv_req_notify_cq: completion queue is closed");
        }
        try {
            if (solicitedOnly) {
                if (notifySolicited == null) {
                    notifySolicited = cq.reqNotification(true);
                }
                notifySolicited.execute();
            } else {
                if (notifyAll == null) {
                    notifyAll = cq.reqNotification(false);
                }
                notifyAll.execute();
            }
        } catch (IOException e) {
            throw new VerbsException("ibv_req_notify_cq: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            for (SVCPollCq call : polls) {
                if (call != null) {
                    call.free();
                }
            }
            if (notifyAll != null) {
                notifyAll.free();
            }
            if (notifySolicited != null) {
                notifySolicited.free();
            }
            try {
                int result = cq.destroyCQ();
                if (result != 0) {
                    LOG.warning("ibv_destroy_cq failed: " + result + " (a queue pair still uses it)");
                }
            } catch (IOException e) {
                LOG.warning("ibv_destroy_cq failed: " + e.getMessage());
            }
        }
        (channel != null ? channel : ownChannel).unbind(this);
        if (ownChannel != null) {
            ownChannel.close();
        }
        device.forget(this);
    }
}
