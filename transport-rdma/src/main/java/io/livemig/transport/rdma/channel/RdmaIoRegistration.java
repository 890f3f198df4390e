package io.livemig.transport.rdma.channel;

import io.livemig.transport.rdma.verbs.CmEventChannel;
import io.livemig.transport.rdma.verbs.CompletionChannel;
import io.livemig.transport.rdma.verbs.CompletionQueue;
import io.livemig.transport.rdma.verbs.QueuePair;
import io.livemig.transport.rdma.verbs.ReceiveWorkRequest;
import io.livemig.transport.rdma.verbs.SendWorkRequest;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.util.concurrent.ThreadAwareExecutor;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One handle registered with an {@link RdmaIoHandler}. It counts the work requests posted through it; a
 * {@link #cancel()} while some are outstanding only marks it, and the handler removes it after the last completion
 * (as io_uring's handler does), because a queue pair and its buffers must outlive every posted request.
 */
final class RdmaIoRegistration implements IoRegistration {

    private final RdmaIoHandler handler;
    private final ThreadAwareExecutor executor;
    private final int id;
    private final RdmaIoHandle handle;
    private final CompletionChannel completionChannel;
    private final CompletionQueue[] queues;
    private final CmEventChannel cmEventChannel;
    private final AtomicBoolean cancelled = new AtomicBoolean();
    /** Loop-confined: posted work requests whose completion has not been delivered yet. */
    private long outstanding;
    /** Loop-confined: cancelled while requests were outstanding; removed when {@link #outstanding} reaches 0. */
    private boolean removeLater;
    /** Loop-confined: removed from the handler, {@link RdmaIoHandle#unregistered()} called. */
    private boolean removed;
    /** Loop-confined: got completions in the current polling round. */
    boolean touched;

    RdmaIoRegistration(RdmaIoHandler handler, ThreadAwareExecutor executor, int id, RdmaIoHandle handle) {
        this.handler = handler;
        this.executor = executor;
        this.id = id;
        this.handle = handle;
        this.completionChannel = handle.completionChannel();
        List<CompletionQueue> list = handle.completionQueues();
        this.queues = list == null ? new CompletionQueue[0] : list.toArray(CompletionQueue[]::new);
        this.cmEventChannel = handle.cmEventChannel();
    }

    int id() {
        return id;
    }

    RdmaIoHandle handle() {
        return handle;
    }

    CompletionChannel completionChannel() {
        return completionChannel;
    }

    CompletionQueue[] queues() {
        return queues;
    }

    CmEventChannel cmEventChannel() {
        return cmEventChannel;
    }

    long outstanding() {
        return outstanding;
    }

    boolean isRemoved() {
        return removed;
    }

    void markRemoved() {
        removed = true;
    }

    /** Counts one delivered completion; returns whether the registration should now be removed. */
    boolean completed() {
        if (outstanding > 0) {
            outstanding--;
        }
        return removeLater && outstanding == 0;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T attachment() {
        return (T) handler;
    }

    /**
     * Posts the {@link RdmaIoOps} on the handle's queue pair. Must be called on the event loop, which keeps the
     * outstanding count confined to one thread.
     *
     * @return the full {@code wr_id} posted
     * @throws UncheckedIOException wrapping an {@link RdmaException} when the provider refuses the request
     */
    @Override
    public long submit(IoOps ops) {
        if (!executor.isExecutorThread(Thread.currentThread())) {
            throw new IllegalStateException("RdmaIoOps must be submitted on the event loop");
        }
        if (!(ops instanceof RdmaIoOps rdmaOps)) {
            throw new IllegalArgumentException("not RdmaIoOps: " + ops);
        }
        if (removed || cancelled.get()) {
            throw new IllegalStateException("registration is cancelled");
        }
        QueuePair qp = handle.queuePair();
        if (qp == null) {
            throw new IllegalStateException("the handle has no queue pair yet");
        }
        try {
            if (rdmaOps.sendRequest() != null) {
                SendWorkRequest r = rdmaOps.sendRequest();
                long wrId = WorkRequestId.pack(id, (int) r.wrId());
                qp.postSend(new SendWorkRequest(wrId, r.opcode(), r.sges(), true, r.inline(), r.immediateData(),
                        r.remoteAddress(), r.rkey()));
                outstanding++;
                return wrId;
            }
            ReceiveWorkRequest r = rdmaOps.receiveRequest();
            long wrId = WorkRequestId.pack(id, (int) r.wrId());
            qp.postReceive(new ReceiveWorkRequest(wrId, r.sges()));
            outstanding++;
            return wrId;
        } catch (VerbsException e) {
            throw new UncheckedIOException(new RdmaException("posting " + ops + " failed: " + e.getMessage(), e));
        }
    }

    @Override
    public boolean isValid() {
        return !cancelled.get();
    }

    @Override
    public boolean cancel() {
        if (!cancelled.compareAndSet(false, true)) {
            return false;
        }
        if (executor.isExecutorThread(Thread.currentThread())) {
            cancelOnLoop();
        } else {
            executor.execute(this::cancelOnLoop);
        }
        return true;
    }

    private void cancelOnLoop() {
        if (outstanding == 0) {
            handler.remove(this);
        } else {
            removeLater = true;
        }
    }

    @Override
    public String toString() {
        return "RdmaIoRegistration[id=" + id + ", outstanding=" + outstanding + (cancelled.get() ? ", cancelled" : "")
                + "]";
    }
}
