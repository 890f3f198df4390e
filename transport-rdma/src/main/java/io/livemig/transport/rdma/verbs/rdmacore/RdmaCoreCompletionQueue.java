package io.livemig.transport.rdma.verbs.rdmacore;

import io.livemig.transport.rdma.unix.Errno;
import io.livemig.transport.rdma.verbs.CompletionQueue;
import io.livemig.transport.rdma.verbs.InvalidStateException;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.WcOpcode;
import io.livemig.transport.rdma.verbs.WcStatus;
import io.livemig.transport.rdma.verbs.WorkCompletion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.logging.Logger;

/**
 * A completion queue ({@code ibv_create_cq}). {@link #poll} calls {@code ops.poll_cq} (what the inline
 * {@code ibv_poll_cq} does) into a preallocated {@code struct ibv_wc} array and translates each entry into the
 * caller's reusable {@link WorkCompletion}: no allocation on this path.
 *
 * <p>The native {@code wr_id} of every work request is the provider's own sequence number (see
 * {@link WorkQueue}); the queue pair that owns the completion, found by {@code qp_num}, maps it back to the
 * caller's id and retires the slots.
 */
// reinterpret() of pointers libibverbs/librdmacm return is restricted; native access is enabled for the JVM.
@SuppressWarnings("restricted")
final class RdmaCoreCompletionQueue implements CompletionQueue {

    private static final Logger LOG = Logger.getLogger(RdmaCoreCompletionQueue.class.getName());
    /** Completions fetched per {@code poll_cq}; the caller's array bounds it further. */
    private static final int BATCH = 64;
    /** The largest {@code enum ibv_wc_status} value the SPI names. */
    private static final int MAX_STATUS = WcStatus.TM_RNDV_INCOMPLETE.value();

    private final RdmaCoreDevice device;
    private final MemorySegment cq;
    private final MemorySegment pollCq;
    private final MemorySegment reqNotifyCq;
    private final RdmaCoreCompletionChannel channel;
    private final int capacity;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment wcs = arena.allocate(VerbsStructs.IBV_WC, BATCH);
    private volatile RdmaCoreQueuePair[] queuePairs = new RdmaCoreQueuePair[0];
    private volatile boolean closed;

    private RdmaCoreCompletionQueue(RdmaCoreDevice device, MemorySegment cq, RdmaCoreCompletionChannel channel,
                                    int capacity) {
        this.device = device;
        this.cq = cq;
        this.channel = channel;
        this.capacity = capacity;
        this.pollCq = (MemorySegment) VerbsStructs.OPS_POLL_CQ.get(device.context(), 0L);
        this.reqNotifyCq = (MemorySegment) VerbsStructs.OPS_REQ_NOTIFY_CQ.get(device.context(), 0L);
    }

    static RdmaCoreCompletionQueue create(RdmaCoreDevice device, int capacity, RdmaCoreCompletionChannel channel)
            throws VerbsException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Errors.allocateErrnoState(arena);
            MemorySegment channelPointer = channel == null ? MemorySegment.NULL : channel.pointer();
            MemorySegment cq = (MemorySegment) Ibv.CREATE_CQ.invokeExact(state, device.context(), capacity,
                    MemorySegment.NULL, channelPointer, 0);
            if (cq.equals(MemorySegment.NULL)) {
                throw Errors.failure("ibv_create_cq", Errors.errno(state));
            }
            RdmaCoreCompletionQueue created = new RdmaCoreCompletionQueue(device, cq.reinterpret(
                    VerbsStructs.IBV_CQ.byteSize()), channel, capacity);
            if (channel != null) {
                channel.bind(created);
            }
            return created;
        } catch (VerbsException e) {
            throw e;
        } catch (Throwable t) {
            throw Errors.unexpected(t);
        }
    }

    MemorySegment pointer() {
        return cq;
    }

    RdmaCoreDevice device() {
        return device;
    }

    synchronized void attach(RdmaCoreQueuePair qp) {
        RdmaCoreQueuePair[] grown = Arrays.copyOf(queuePairs, queuePairs.length + 1);
        grown[queuePairs.length] = qp;
        queuePairs = grown;
    }

    synchronized void detach(RdmaCoreQueuePair qp) {
        queuePairs = Arrays.stream(queuePairs).filter(q -> q != qp).toArray(RdmaCoreQueuePair[]::new);
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
            polled = (int) Ibv.POLL_CQ.invokeExact(pollCq, cq, wanted, wcs);
        } catch (Throwable t) {
            throw Errors.unexpected(t);
        }
        if (polled < 0) {
            throw new VerbsException("ibv_poll_cq: failed with " + polled + " (completion queue overrun or device "
                    + "error)");
        }
        for (int i = 0; i < polled; i++) {
            translate(i * VerbsStructs.IBV_WC.byteSize(), completions[i]);
        }
        return polled;
    }

    /** Translates the {@code ibv_wc} at {@code offset} of the batch, reading fields in place (no slice objects). */
    private void translate(long offset, WorkCompletion into) {
        MemorySegment wc = wcs;
        long wrId = (long) VerbsStructs.WC_WR_ID.get(wc, offset);
        int status = (int) VerbsStructs.WC_STATUS.get(wc, offset);
        int opcode = (int) VerbsStructs.WC_OPCODE.get(wc, offset);
        int byteLength = (int) VerbsStructs.WC_BYTE_LEN.get(wc, offset);
        // imm_data is __be32 (verbs.h): the SPI reports it in host order.
        int immediate = Integer.reverseBytes((int) VerbsStructs.WC_IMM_DATA.get(wc, offset));
        boolean hasImmediate = ((int) VerbsStructs.WC_FLAGS.get(wc, offset) & VerbsStructs.IBV_WC_WITH_IMM) != 0;
        int qpNumber = (int) VerbsStructs.WC_QP_NUM.get(wc, offset);
        WcStatus wcStatus = status >= 0 && status <= MAX_STATUS ? WcStatus.valueOf(status) : WcStatus.GENERAL_ERR;
        for (RdmaCoreQueuePair qp : queuePairs) {
            if (qp.qpNumber() == qpNumber) {
                qp.complete(into, wrId, wcStatus, opcode, byteLength, immediate, hasImmediate);
                return;
            }
        }
        // The queue pair is gone (destroyed with completions still queued): report what the device said.
        into.set(wrId, wcStatus, nativeOpcode(opcode), byteLength, immediate, hasImmediate, qpNumber);
    }

    private static WcOpcode nativeOpcode(int opcode) {
        return switch (opcode) {
            case 1 -> WcOpcode.RDMA_WRITE;
            case 2 -> WcOpcode.RDMA_READ;
            case VerbsStructs.IBV_WC_RECV -> WcOpcode.RECV;
            case VerbsStructs.IBV_WC_RECV_RDMA_WITH_IMM -> WcOpcode.RECV_RDMA_WITH_IMM;
            default -> WcOpcode.SEND;
        };
    }

    @Override
    public void requestNotification(boolean solicitedOnly) throws VerbsException {
        if (channel == null) {
            throw new InvalidStateException("ibv_req_notify_cq: the completion queue was created without a channel");
        }
        if (closed) {
            throw new InvalidStateException("ibv_req_notify_cq: completion queue is closed");
        }
        int errno;
        try {
            errno = (int) Ibv.REQ_NOTIFY_CQ.invokeExact(reqNotifyCq, cq, solicitedOnly ? 1 : 0);
        } catch (Throwable t) {
            throw Errors.unexpected(t);
        }
        if (errno != 0) {
            throw Errors.failure("ibv_req_notify_cq", errno);
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            try {
                int errno = (int) Ibv.DESTROY_CQ.invokeExact(cq);
                if (errno != 0) {
                    LOG.warning("ibv_destroy_cq failed: " + Errno.name(errno) + " (a queue pair still uses it)");
                }
            } catch (Throwable t) {
                throw Errors.unexpected(t);
            }
            arena.close();
        }
        if (channel != null) {
            channel.unbind(this);
        }
        device.forget(this);
    }
}
