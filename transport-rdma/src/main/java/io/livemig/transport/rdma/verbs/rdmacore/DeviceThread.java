package io.livemig.transport.rdma.verbs.rdmacore;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.livemig.transport.rdma.unix.Epoll;
import io.livemig.transport.rdma.unix.EpollEventArray;
import io.livemig.transport.rdma.unix.Errno;
import io.livemig.transport.rdma.unix.EventFd;
import io.livemig.transport.rdma.unix.FileDescriptors;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The one thread of an open device, a daemon named {@code livemig-verbs-<device>}, waiting in epoll. It does three
 * jobs that have no caller to piggyback on:
 * <ul>
 * <li>It drains the rdma_cm event channels of the device as soon as events arrive (see
 * {@link RdmaCoreEventChannel#pump()}): the CM protocol expects prompt answers that the application never sees,
 * above all the DREP to a peer's disconnect request ({@code rdma_disconnect} on DISCONNECTED); a peer waiting for
 * it would otherwise see DISCONNECTED only after its DREQ retries time out, whenever this side's application is
 * slow to read its events.</li>
 * <li>It reads and acknowledges the device's asynchronous events ({@code ibv_get_async_event} +
 * {@code ibv_ack_async_event}). Nobody else reads them, and {@code ibv_destroy_qp}/{@code ibv_destroy_cq} block
 * until every event reported for the object is acknowledged ({@code man ibv_get_async_event}), so without this
 * thread a QP that saw, say, {@code IBV_EVENT_QP_FATAL} could never be destroyed.</li>
 * <li>It fires the handshake deadlines of {@code rdma_connect}/{@code rdma_accept}: the IB CM's own timeout is
 * minutes, the SPI's is the caller's, so the provider keeps the clock.</li>
 * </ul>
 * It ends at {@link #close()}, which the device calls after destroying every queue pair and queue.
 */
final class DeviceThread implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(DeviceThread.class.getName());
    /** The prefix of every thread this provider starts. */
    static final String NAME_PREFIX = "livemig-verbs-";
    private static final long ASYNC_KEY = 0;
    private static final long WAKEUP_KEY = 1;

    private record Deadline(long nanos, long sequence, Runnable action) implements Comparable<Deadline> {
        @Override
        public int compareTo(Deadline other) {
            int byTime = Long.compare(nanos - other.nanos, 0);
            return byTime != 0 ? byTime : Long.compare(sequence, other.sequence);
        }
    }

    private final MemorySegment context;
    private final int asyncFd;
    private final Epoll epoll;
    private final EventFd wakeup;
    private final EpollEventArray ready = new EpollEventArray(16);
    private final Map<Long, RdmaCoreEventChannel> channels = new ConcurrentHashMap<>();
    private final Thread thread;
    private final PriorityQueue<Deadline> deadlines = new PriorityQueue<>();
    private long sequence;
    private long nextChannelKey = 2;
    private volatile boolean closed;

    DeviceThread(MemorySegment context, String deviceName) throws Exception {
        this.context = context;
        this.asyncFd = (int) VerbsStructs.CONTEXT_ASYNC_FD.get(context, 0L);
        // The async fd is shared by every DeviceContext on this ibv_context; non-blocking so that two threads
        // racing for one event never park in ibv_get_async_event.
        FileDescriptors.setNonBlocking(asyncFd);
        Epoll createdEpoll = Epoll.open();
        EventFd createdWakeup = null;
        try {
            createdWakeup = EventFd.open();
            createdEpoll.add(asyncFd, Epoll.EPOLLIN, ASYNC_KEY);
            createdEpoll.add(createdWakeup.fd(), Epoll.EPOLLIN, WAKEUP_KEY);
        } catch (Exception e) {
            createdEpoll.close();
            if (createdWakeup != null) {
                createdWakeup.close();
            }
            ready.close();
            throw e;
        }
        this.epoll = createdEpoll;
        this.wakeup = createdWakeup;
        this.thread = Thread.ofPlatform().daemon().name(NAME_PREFIX + deviceName).unstarted(this::run);
        thread.start();
    }

    /**
     * Starts draining an event channel whenever its rdma_cm descriptor is readable.
     *
     * @param channel the channel
     * @param cmFd its rdma_cm descriptor
     * @return the key to pass to {@link #unwatch}
     * @throws Exception when epoll_ctl fails
     */
    synchronized long watch(RdmaCoreEventChannel channel, int cmFd) throws Exception {
        long key = nextChannelKey++;
        channels.put(key, channel);
        epoll.add(cmFd, Epoll.EPOLLIN, key);
        return key;
    }

    /**
     * Stops draining an event channel; call before its descriptor is closed.
     *
     * @param key from {@link #watch}
     * @param cmFd the channel's rdma_cm descriptor
     */
    void unwatch(long key, int cmFd) {
        channels.remove(key);
        try {
            epoll.remove(cmFd);
        } catch (Exception e) {
            LOG.fine(() -> "epoll_ctl DEL of rdma_cm fd " + cmFd + ": " + e.getMessage());
        }
    }

    /**
     * Runs {@code action} on this thread after {@code delayNanos}, unless cancelled.
     *
     * @param delayNanos the delay
     * @param action the action; must not block
     * @return a handle whose {@link Runnable#run()} cancels the deadline
     */
    Runnable schedule(long delayNanos, Runnable action) {
        Deadline deadline;
        synchronized (deadlines) {
            deadline = new Deadline(System.nanoTime() + delayNanos, sequence++, action);
            deadlines.add(deadline);
        }
        wakeup.signal(); // the wait may be longer than this deadline
        return () -> {
            synchronized (deadlines) {
                deadlines.remove(deadline);
            }
        };
    }

    private void run() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Errors.allocateErrnoState(arena);
            MemorySegment event = arena.allocate(Ibv.ASYNC_EVENT_SIZE, 8);
            while (!closed) {
                fireDueDeadlines();
                int n = epoll.wait(ready, waitMillis());
                for (int i = 0; i < n && !closed; i++) {
                    long key = ready.data(i);
                    if (key == ASYNC_KEY) {
                        drainAsyncEvents(state, event);
                    } else if (key == WAKEUP_KEY) {
                        wakeup.drain();
                    } else {
                        pump(channels.get(key));
                    }
                }
            }
        } catch (Throwable t) {
            if (!closed) {
                LOG.log(Level.WARNING, "device thread " + Thread.currentThread().getName() + " failed", t);
            }
        }
    }

    private static void pump(RdmaCoreEventChannel channel) {
        if (channel == null) {
            return; // unwatched while this wait was returning
        }
        try {
            channel.pump();
        } catch (Exception e) {
            LOG.log(Level.WARNING, "draining rdma_cm events failed", e);
        }
    }

    private int waitMillis() {
        synchronized (deadlines) {
            Deadline next = deadlines.peek();
            if (next == null) {
                return -1;
            }
            long left = next.nanos - System.nanoTime();
            return left <= 0 ? 0 : (int) Math.min(Integer.MAX_VALUE, Math.ceilDiv(left, 1_000_000L));
        }
    }

    private void fireDueDeadlines() {
        for (;;) {
            Deadline due;
            synchronized (deadlines) {
                due = deadlines.peek();
                if (due == null || due.nanos - System.nanoTime() > 0) {
                    return;
                }
                deadlines.poll();
            }
            try {
                due.action.run();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "handshake deadline action failed", e);
            }
        }
    }

    private void drainAsyncEvents(MemorySegment state, MemorySegment event) throws Throwable {
        for (;;) {
            if ((int) Ibv.GET_ASYNC_EVENT.invokeExact(state, context, event) != 0) {
                int errno = Errors.errno(state);
                if (errno != Errno.EAGAIN && errno != Errno.EINTR) {
                    LOG.warning("ibv_get_async_event failed: errno " + errno);
                }
                return;
            }
            int type = event.get(JAVA_INT, 8);
            // Acknowledge at once: the owner of the object learns about failures from its work completions.
            Ibv.ACK_ASYNC_EVENT.invokeExact(event);
            LOG.fine(() -> "async event " + type + " on " + thread.getName());
        }
    }

    /** Stops the thread, waits for it and releases its descriptors; idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        wakeup.signal();
        if (Thread.currentThread() != thread) {
            try {
                thread.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            epoll.remove(asyncFd); // the async fd belongs to librdmacm's context and stays open
        } catch (Exception e) {
            LOG.fine(() -> "epoll_ctl DEL of the async fd: " + e.getMessage());
        }
        epoll.close();
        wakeup.close();
        ready.close();
    }
}
