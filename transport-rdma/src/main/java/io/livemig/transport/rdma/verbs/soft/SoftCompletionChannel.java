package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.unix.EventFd;
import io.livemig.transport.rdma.unix.NativeIoException;
import io.livemig.transport.rdma.verbs.CompletionChannel;
import io.livemig.transport.rdma.verbs.CompletionQueue;
import io.livemig.transport.rdma.verbs.InvalidStateException;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.VerbsTimeoutException;
import java.time.Duration;

/** A soft completion channel: a queue of fired completion queues mirrored by an eventfd. */
final class SoftCompletionChannel implements CompletionChannel {

    private final SoftDevice device;
    private final EventSignal<CompletionQueue> events;

    SoftCompletionChannel(SoftDevice device) throws NativeIoException {
        this.device = device;
        this.events = new EventSignal<>(EventFd.open());
    }

    void fire(SoftCompletionQueue cq) {
        events.add(cq);
    }

    @Override
    public int fd() {
        return events.fd();
    }

    @Override
    public CompletionQueue pollEvent() throws VerbsException {
        if (events.isClosed()) {
            throw new InvalidStateException("ibv_get_cq_event: completion channel is closed");
        }
        return events.poll();
    }

    @Override
    public CompletionQueue awaitEvent(Duration timeout) throws VerbsException {
        CompletionQueue cq = events.await(timeout, "ibv_get_cq_event");
        if (cq == null) {
            throw new VerbsTimeoutException("ibv_get_cq_event: no completion event within " + timeout);
        }
        return cq;
    }

    @Override
    public void close() {
        if (events.close()) {
            device.forget(this);
        }
    }
}
