package io.livemig.transport.rdma.verbs.disni;

import com.ibm.disni.verbs.IbvCompChannel;
import com.ibm.disni.verbs.impl.NatObject;
import io.livemig.transport.rdma.unix.FileDescriptors;
import io.livemig.transport.rdma.verbs.CompletionChannel;
import io.livemig.transport.rdma.verbs.CompletionQueue;
import io.livemig.transport.rdma.verbs.InvalidStateException;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.VerbsTimeoutException;

import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * A completion channel created by DiSNI ({@code IbvCompChannel}), non-blocking (libdisni sets {@code O_NONBLOCK}).
 * Its descriptor and the queue that fired come from {@link DisniNative}: DiSNI's {@code getFd()} returns 0, and its
 * {@code getCqEvent} neither says which queue fired nor acknowledges the event.
 */
final class DisniCompletionChannel implements CompletionChannel {

    private static final Logger LOG = Logger.getLogger(DisniCompletionChannel.class.getName());

    private final DisniDevice device;
    private final IbvCompChannel channel;
    private final long pointer;
    private final int fd;
    private volatile DisniCompletionQueue[] queues = new DisniCompletionQueue[0];
    private boolean closed;

    private DisniCompletionChannel(DisniDevice device, IbvCompChannel channel) {
        this.device = device;
        this.channel = channel;
        this.pointer = ((NatObject) channel).getObjId();
        this.fd = DisniNative.completionChannelFd(pointer);
    }

    static DisniCompletionChannel create(DisniDevice device) throws VerbsException {
        try {
            return new DisniCompletionChannel(device, device.context().createCompChannel());
        } catch (IOException e) {
            throw new VerbsException("ibv_create_comp_channel: " + e.getMessage(), e);
        }
    }

    IbvCompChannel channel() {
        return channel;
    }

    synchronized void bind(DisniCompletionQueue cq) {
        DisniCompletionQueue[] grown = Arrays.copyOf(queues, queues.length + 1);
        grown[queues.length] = cq;
        queues = grown;
    }

    synchronized void unbind(DisniCompletionQueue cq) {
        queues = Arrays.stream(queues).filter(q -> q != cq).toArray(DisniCompletionQueue[]::new);
    }

    @Override
    public int fd() {
        return fd;
    }

    @Override
    public synchronized CompletionQueue pollEvent() throws VerbsException {
        if (closed) {
            throw new InvalidStateException("ibv_get_cq_event: completion channel is closed");
        }
        try {
            if ((FileDescriptors.poll(fd, FileDescriptors.POLLIN, 0) & FileDescriptors.POLLIN) == 0) {
                return null;
            }
        } catch (Exception e) {
            throw new VerbsException("ibv_get_cq_event: poll on fd " + fd + " failed", e);
        }
        long fired = DisniNative.takeCqEvent(pointer);
        if (fired == 0) {
            return null;
        }
        for (DisniCompletionQueue cq : queues) {
            if (cq.pointer() == fired) {
                return cq;
            }
        }
        return null; // a queue closed between arming and this event
    }

    @Override
    public CompletionQueue awaitEvent(Duration timeout) throws VerbsException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (;;) {
            CompletionQueue cq = pollEvent();
            if (cq != null) {
                return cq;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new VerbsTimeoutException("ibv_get_cq_event: no completion event within " + timeout);
            }
            try {
                FileDescriptors.poll(fd, FileDescriptors.POLLIN,
                        (int) Math.max(1, Math.min(Integer.MAX_VALUE, TimeUnit.NANOSECONDS.toMillis(left))));
            } catch (Exception e) {
                throw new VerbsException("ibv_get_cq_event: poll on fd " + fd + " failed", e);
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
            try {
                int result = channel.destroyCompChannel();
                if (result != 0) {
                    LOG.warning("ibv_destroy_comp_channel failed: " + result + " (a completion queue still uses it)");
                }
            } catch (IOException e) {
                LOG.warning("ibv_destroy_comp_channel failed: " + e.getMessage());
            }
        }
        device.forget(this);
    }
}
