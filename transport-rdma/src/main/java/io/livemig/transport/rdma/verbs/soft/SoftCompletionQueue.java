package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.verbs.CompletionQueue;
import io.livemig.transport.rdma.verbs.InvalidStateException;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.WcStatus;
import io.livemig.transport.rdma.verbs.WorkCompletion;
import java.util.ArrayDeque;

/** A soft completion queue: a bounded FIFO of completions plus the arm flag of {@code ibv_req_notify_cq}. */
final class SoftCompletionQueue implements CompletionQueue {

    private final SoftDevice device;
    private final int capacity;
    private final SoftCompletionChannel channel;
    private final ArrayDeque<Completion> entries = new ArrayDeque<>();
    /** Guarded by {@code this}: 0 = not armed, 1 = next completion, 2 = next solicited (error) completion. */
    private int armed;
    /** Guarded by {@code this}: set when a completion arrived with the queue full (an ibv async CQ error). */
    private boolean overrun;
    private boolean closed;

    SoftCompletionQueue(SoftDevice device, int capacity, SoftCompletionChannel channel) {
        this.device = device;
        this.capacity = capacity;
        this.channel = channel;
    }

    @Override
    public int capacity() {
        return capacity;
    }

    /** Adds a completion; called by queue pairs, never blocks. */
    void add(Completion completion) {
        boolean notify;
        synchronized (this) {
            if (closed) {
                return;
            }
            if (entries.size() >= capacity) {
                overrun = true;
            }
            entries.add(completion);
            notify = armed == 1 || (armed == 2 && completion.status() != WcStatus.SUCCESS);
            if (notify) {
                armed = 0;
            }
        }
        if (notify) {
            channel.fire(this);
        }
    }

    @Override
    public int poll(WorkCompletion[] completions) throws VerbsException {
        synchronized (this) {
            if (closed) {
                throw new InvalidStateException("ibv_poll_cq: completion queue is closed");
            }
            if (overrun) {
                throw new VerbsException("ibv_poll_cq: completion queue overrun: more than " + capacity
                        + " completions were outstanding");
            }
            int count = 0;
            while (count < completions.length && !entries.isEmpty()) {
                entries.poll().copyTo(completions[count++]);
            }
            return count;
        }
    }

    @Override
    public void requestNotification(boolean solicitedOnly) throws VerbsException {
        if (channel == null) {
            throw new InvalidStateException("ibv_req_notify_cq: the completion queue was created without a channel");
        }
        synchronized (this) {
            if (closed) {
                throw new InvalidStateException("ibv_req_notify_cq: completion queue is closed");
            }
            if (armed != 1) {
                armed = solicitedOnly ? 2 : 1;
            }
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            entries.clear();
        }
        device.forget(this);
    }
}
