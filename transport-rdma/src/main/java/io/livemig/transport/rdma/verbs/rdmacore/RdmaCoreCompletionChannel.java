package io.livemig.transport.rdma.verbs.rdmacore;

import static java.lang.foreign.ValueLayout.ADDRESS;

import io.livemig.transport.rdma.unix.Errno;
import io.livemig.transport.rdma.unix.FileDescriptors;
import io.livemig.transport.rdma.verbs.CompletionChannel;
import io.livemig.transport.rdma.verbs.CompletionQueue;
import io.livemig.transport.rdma.verbs.InvalidStateException;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.VerbsTimeoutException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * A completion channel ({@code ibv_create_comp_channel}) whose fd is non-blocking. {@link #pollEvent()} allocates
 * nothing: the out-parameters of {@code ibv_get_cq_event} and the errno state are preallocated, and the queue that
 * fired is found among the few bound to this channel by a scan of a small array.
 */
final class RdmaCoreCompletionChannel implements CompletionChannel {

    private static final Logger LOG = Logger.getLogger(RdmaCoreCompletionChannel.class.getName());

    private final RdmaCoreDevice device;
    private final MemorySegment channel;
    private final int fd;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment state = Errors.allocateErrnoState(arena);
    private final MemorySegment cqOut = arena.allocate(ADDRESS);
    private final MemorySegment contextOut = arena.allocate(ADDRESS);
    private volatile RdmaCoreCompletionQueue[] queues = new RdmaCoreCompletionQueue[0];
    private boolean closed;

    RdmaCoreCompletionChannel(RdmaCoreDevice device, MemorySegment channel, int fd) {
        this.device = device;
        this.channel = channel;
        this.fd = fd;
    }

    RdmaCoreDevice device() {
        return device;
    }

    MemorySegment pointer() {
        return channel;
    }

    synchronized void bind(RdmaCoreCompletionQueue cq) {
        RdmaCoreCompletionQueue[] grown = java.util.Arrays.copyOf(queues, queues.length + 1);
        grown[queues.length] = cq;
        queues = grown;
    }

    synchronized void unbind(RdmaCoreCompletionQueue cq) {
        queues = java.util.Arrays.stream(queues).filter(q -> q != cq).toArray(RdmaCoreCompletionQueue[]::new);
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
            if ((int) Ibv.GET_CQ_EVENT.invokeExact(state, channel, cqOut, contextOut) != 0) {
                int errno = Errors.errno(state);
                if (errno == Errno.EAGAIN || errno == Errno.EINTR) {
                    return null;
                }
                throw Errors.failure("ibv_get_cq_event", errno);
            }
            long fired = cqOut.get(ADDRESS, 0).address();
            // man ibv_get_cq_event: every event must be acknowledged before the CQ is destroyed; one at a time
            // costs a mutex, which is cheap next to the read(2) that fetched the event.
            Ibv.ACK_CQ_EVENTS.invokeExact(cqOut.get(ADDRESS, 0), 1);
            for (RdmaCoreCompletionQueue cq : queues) {
                if (cq.pointer().address() == fired) {
                    return cq;
                }
            }
            return null; // a queue closed between arming and this event
        } catch (VerbsException e) {
            throw e;
        } catch (Throwable t) {
            throw Errors.unexpected(t);
        }
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
                int errno = (int) Ibv.DESTROY_COMP_CHANNEL.invokeExact(channel);
                if (errno != 0) {
                    LOG.warning("ibv_destroy_comp_channel failed: " + Errno.name(errno)
                            + " (a completion queue still uses it)");
                }
            } catch (Throwable t) {
                throw Errors.unexpected(t);
            }
            arena.close();
        }
        device.forget(this);
    }
}
