package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.unix.EventFd;
import io.livemig.transport.rdma.unix.FileDescriptors;
import io.livemig.transport.rdma.unix.NativeIoException;
import io.livemig.transport.rdma.verbs.InvalidStateException;
import io.livemig.transport.rdma.verbs.VerbsException;
import java.time.Duration;
import java.util.ArrayDeque;

/**
 * A queue of events whose eventfd is readable exactly while the queue is non-empty, the shape of both
 * {@code ibv_comp_channel} and {@code rdma_event_channel}: an event loop polls the fd, then drains the queue.
 *
 * @param <E> the event type
 */
final class EventSignal<E> {

    private final EventFd eventFd;
    private final ArrayDeque<E> queue = new ArrayDeque<>();
    private boolean closed;

    EventSignal(EventFd eventFd) {
        this.eventFd = eventFd;
    }

    int fd() {
        return eventFd.fd();
    }

    synchronized boolean isClosed() {
        return closed;
    }

    synchronized void add(E event) {
        if (closed) {
            return;
        }
        queue.add(event);
        // Signal only on the empty -> non-empty edge, under the lock: the counter is non-zero exactly while the
        // queue is non-empty, so a level-triggered epoll neither misses an event nor spins on an empty queue.
        if (queue.size() == 1) {
            eventFd.signal();
        }
    }

    /** Takes the next event; drains the eventfd when the queue becomes empty. */
    synchronized E poll() {
        E event = queue.poll();
        if (queue.isEmpty() && !closed) {
            eventFd.drain();
        }
        return event;
    }

    /**
     * Waits on the fd (as an application's event loop would) for the next event.
     *
     * @return the event, or {@code null} on timeout
     */
    E await(Duration timeout, String operation) throws VerbsException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            synchronized (this) {
                if (closed) {
                    throw new InvalidStateException(operation + ": channel is closed");
                }
            }
            E event = poll();
            if (event != null) {
                return event;
            }
            long remainingMillis = (deadline - System.nanoTime() + 999_999) / 1_000_000;
            if (remainingMillis <= 0) {
                return null;
            }
            try {
                FileDescriptors.poll(eventFd.fd(), FileDescriptors.POLLIN, (int) Math.min(remainingMillis, 100));
            } catch (NativeIoException e) {
                throw new VerbsException(operation + ": poll on fd " + eventFd.fd() + " failed", e);
            }
        }
    }

    /**
     * Closes the fd.
     *
     * @return {@code true} for the call that closed it
     */
    boolean close() {
        synchronized (this) {
            if (closed) {
                return false;
            }
            closed = true;
            queue.clear();
        }
        eventFd.close();
        return true;
    }
}
