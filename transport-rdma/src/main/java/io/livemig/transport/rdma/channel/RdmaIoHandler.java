package io.livemig.transport.rdma.channel;

import io.livemig.transport.rdma.observe.TransportRecorder;
import io.livemig.transport.rdma.unix.Epoll;
import io.livemig.transport.rdma.unix.EpollEventArray;
import io.livemig.transport.rdma.unix.EventFd;
import io.livemig.transport.rdma.unix.Native;
import io.livemig.transport.rdma.unix.NativeIoException;
import io.livemig.transport.rdma.verbs.CompletionQueue;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.WorkCompletion;
import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoRegistration;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.collection.IntObjectMap;
import io.netty.util.concurrent.ThreadAwareExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * The I/O engine of an RDMA event loop: {@code new MultiThreadIoEventLoopGroup(n, RdmaIoHandler.newFactory())}.
 *
 * <p>Each {@link #run} polls the completion queues of every registered {@link RdmaIoHandle} and hands each work
 * completion to the handle whose registration id is in its {@code wr_id}. After a configurable number of empty
 * rounds (hybrid polling, like rsocket's {@code polling_time}) and only when the loop has nothing else to do, it arms
 * every queue, polls once more (a completion that arrived between the last poll and the arm would otherwise be
 * stranded) and blocks in epoll on the completion-channel descriptors, the rdma_cm event-channel descriptors and its
 * own eventfd, which {@link #wakeup()} signals, until the next scheduled task is due.
 *
 * <p>A {@link TransportRecorder} given to {@link #newFactory(int, TransportRecorder)} hears of every iteration
 * (whether it blocked) and, through the channels registered here, of their work requests and completions.
 *
 * <p>Every method but {@link #wakeup()} and {@link #isCompatible} runs on the loop thread.
 */
public final class RdmaIoHandler implements IoHandler {

    /** Empty polling rounds before the loop arms the queues and blocks, unless told otherwise. */
    public static final int DEFAULT_SPIN_POLLS = 64;

    private static final System.Logger LOG = System.getLogger(RdmaIoHandler.class.getName());
    /** Epoll data kinds, in the low bits below the registration id. */
    private static final int WAKEUP = 0;
    private static final int COMPLETION_CHANNEL = 1;
    private static final int CM_CHANNEL = 2;
    private static final int KIND_BITS = 2;
    /** Completion polls per queue per round, so one busy queue cannot starve the loop's tasks. */
    private static final int MAX_POLLS_PER_QUEUE = 16;
    /** How long {@link #destroy()} waits for the flush completions of registrations still outstanding. */
    private static final long DESTROY_DRAIN_NANOS = TimeUnit.SECONDS.toNanos(2);

    private final ThreadAwareExecutor executor;
    private final int spinPolls;
    private final TransportRecorder recorder;
    private final Epoll epoll;
    private final EventFd wakeupFd;
    private final EpollEventArray readyEvents = new EpollEventArray(64);
    private final WorkCompletion[] completions = WorkCompletion.array(32);
    private final RdmaIoEvent completionEvent = RdmaIoEvent.newCompletionEvent();
    private final IntObjectMap<RdmaIoRegistration> registrations = new IntObjectHashMap<>();
    /** A copy of the registrations to iterate while handles register and unregister from their callbacks. */
    private RdmaIoRegistration[] snapshot = new RdmaIoRegistration[0];
    private final List<RdmaIoRegistration> touched = new ArrayList<>();
    /** Set by the first off-loop {@link #wakeup()} after the loop last drained the eventfd: one write suffices. */
    private final AtomicBoolean wakeupPending = new AtomicBoolean();
    private int nextId = 1;
    private int emptyPolls;

    private RdmaIoHandler(ThreadAwareExecutor executor, int spinPolls, TransportRecorder recorder)
            throws NativeIoException {
        Native.ensureAvailability();
        this.executor = executor;
        this.spinPolls = spinPolls;
        this.recorder = recorder;
        Epoll openedEpoll = Epoll.open();
        boolean success = false;
        try {
            this.wakeupFd = EventFd.open();
            try {
                // Level-triggered: the loop drains the counter whenever it reports ready.
                openedEpoll.add(wakeupFd.fd(), Epoll.EPOLLIN, WAKEUP);
                success = true;
            } finally {
                if (!success) {
                    wakeupFd.close();
                }
            }
        } finally {
            if (!success) {
                openedEpoll.close();
                readyEvents.close();
            }
        }
        this.epoll = openedEpoll;
    }

    /**
     * A factory of handlers that spin {@link #DEFAULT_SPIN_POLLS} empty rounds before blocking.
     *
     * @return the factory
     */
    public static IoHandlerFactory newFactory() {
        return newFactory(DEFAULT_SPIN_POLLS);
    }

    /**
     * A factory of handlers with the given hybrid-polling budget.
     *
     * @param spinPolls empty polling rounds before arming the queues and blocking; 0 blocks at once
     * @return the factory
     * @throws IllegalArgumentException when {@code spinPolls} is negative
     */
    public static IoHandlerFactory newFactory(int spinPolls) {
        return newFactory(spinPolls, TransportRecorder.NOOP);
    }

    /**
     * A factory of handlers with the given hybrid-polling budget that report to a recorder: each loop its
     * iterations, each channel on it its work requests and completions.
     *
     * @param spinPolls empty polling rounds before arming the queues and blocking; 0 blocks at once
     * @param recorder where the loops and their channels report; {@link TransportRecorder#NOOP} for nowhere
     * @return the factory
     * @throws IllegalArgumentException when {@code spinPolls} is negative
     * @throws NullPointerException when {@code recorder} is null
     */
    public static IoHandlerFactory newFactory(int spinPolls, TransportRecorder recorder) {
        if (spinPolls < 0) {
            throw new IllegalArgumentException("spinPolls must be >= 0: " + spinPolls);
        }
        Objects.requireNonNull(recorder, "recorder");
        return new IoHandlerFactory() {
            @Override
            public IoHandler newHandler(ThreadAwareExecutor executor) {
                try {
                    return new RdmaIoHandler(executor, spinPolls, recorder);
                } catch (NativeIoException e) {
                    throw new IllegalStateException("cannot open the RDMA event loop's descriptors", e);
                }
            }

            @Override
            public boolean isChangingThreadSupported() {
                return true;
            }
        };
    }

    @Override
    public int run(IoHandlerContext context) {
        long start = System.nanoTime();
        int handled = pollAll();
        int timeoutMillis = 0;
        if (handled > 0) {
            emptyPolls = 0;
        } else if (context.canBlock()) {
            if (emptyPolls < spinPolls) {
                emptyPolls++;
            } else {
                armAll();
                handled = pollAll();
                if (handled == 0) {
                    timeoutMillis = timeoutMillis(context);
                }
            }
        }
        recorder.eventLoopRun(timeoutMillis != 0);
        long blockedNanos = 0;
        int ready;
        try {
            long before = timeoutMillis == 0 ? 0 : System.nanoTime();
            ready = epoll.wait(readyEvents, timeoutMillis);
            if (timeoutMillis != 0) {
                blockedNanos = System.nanoTime() - before;
                emptyPolls = 0;
            }
        } catch (NativeIoException e) {
            LOG.log(System.Logger.Level.WARNING, "epoll_wait failed; backing off", e);
            // Anti-spin, as Netty's epoll loop does after an unexpected failure.
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
            return handled;
        }
        handled += processReady(ready);
        if (context.shouldReportActiveIoTime()) {
            context.reportActiveIoTime(System.nanoTime() - start - blockedNanos);
        }
        return handled;
    }

    private static int timeoutMillis(IoHandlerContext context) {
        long delayNanos = context.delayNanos(System.nanoTime());
        if (delayNanos <= 0) {
            return 0;
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(delayNanos + 999_999);
        return (int) Math.min(millis, Integer.MAX_VALUE);
    }

    private int processReady(int ready) {
        int handled = 0;
        for (int i = 0; i < ready; i++) {
            long data = readyEvents.data(i);
            int kind = (int) (data & ((1 << KIND_BITS) - 1));
            if (kind == WAKEUP) {
                // Drain first, then clear the flag. The other order loses wakeups: one that lands between the clear
                // and the drain sets the flag and writes the eventfd, the drain then eats its write, and with the
                // flag left set no later wakeup writes again, so the loop sleeps with tasks queued until a
                // completion or a timeout happens to wake it (seen as migrations stalling for seconds). In this
                // order a wakeup that finds the flag still set skips its write, but its task was queued before it
                // and runs after this I/O pass.
                wakeupFd.drain();
                wakeupPending.set(false);
                continue;
            }
            RdmaIoRegistration registration = registrations.get((int) (data >>> KIND_BITS));
            if (registration == null || registration.isRemoved()) {
                continue;
            }
            if (kind == COMPLETION_CHANNEL) {
                handled += takeNotifications(registration);
            } else {
                // Completions first: a DISCONNECTED event follows the flush of the queue pair, and the handle should
                // see each request's own status before it learns the connection is gone.
                handled += poll(registration) + 1;
                endRound();
                if (!registration.isRemoved()) {
                    registration.handle().handle(registration, RdmaIoEvent.CM_EVENTS);
                }
            }
        }
        return handled;
    }

    /** Acknowledges the channel's notifications, then polls: the fired queues are disarmed until the next block. */
    private int takeNotifications(RdmaIoRegistration registration) {
        try {
            while (registration.completionChannel().pollEvent() != null) {
                // Each event is acknowledged as it is taken; the queues are polled below.
            }
        } catch (VerbsException e) {
            fail(registration, e);
            return 0;
        }
        int handled = poll(registration);
        endRound();
        return handled;
    }

    private int pollAll() {
        int handled = 0;
        for (RdmaIoRegistration registration : snapshot) {
            if (!registration.isRemoved()) {
                handled += poll(registration);
            }
        }
        endRound();
        return handled;
    }

    private int poll(RdmaIoRegistration registration) {
        int handled = 0;
        for (CompletionQueue cq : registration.queues()) {
            for (int round = 0; round < MAX_POLLS_PER_QUEUE && !registration.isRemoved(); round++) {
                int polled;
                try {
                    polled = cq.poll(completions);
                } catch (VerbsException e) {
                    fail(registration, e);
                    return handled;
                }
                for (int i = 0; i < polled; i++) {
                    dispatch(registration, completions[i]);
                }
                handled += polled;
                if (polled < completions.length) {
                    break;
                }
            }
        }
        return handled;
    }

    /** Hands a completion to the registration named in its {@code wr_id}: a queue may be shared by several. */
    private void dispatch(RdmaIoRegistration polledFor, WorkCompletion wc) {
        int id = WorkRequestId.registration(wc.wrId());
        RdmaIoRegistration owner = id == polledFor.id() ? polledFor : registrations.get(id);
        if (owner == null || owner.isRemoved()) {
            LOG.log(System.Logger.Level.DEBUG, "dropping a completion of an unknown registration: {0}", wc);
            return;
        }
        boolean removeNow = owner.completed();
        try {
            owner.handle().handle(owner, completionEvent.completion(wc));
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.WARNING, "handle " + owner.handle() + " failed on " + wc, t);
        } finally {
            completionEvent.completion(null);
        }
        if (!owner.touched) {
            owner.touched = true;
            touched.add(owner);
        }
        if (removeNow) {
            remove(owner);
        }
    }

    private void endRound() {
        if (touched.isEmpty()) {
            return;
        }
        for (int i = 0; i < touched.size(); i++) {
            RdmaIoRegistration registration = touched.get(i);
            registration.touched = false;
            if (!registration.isRemoved()) {
                registration.handle().handle(registration, RdmaIoEvent.COMPLETIONS_END);
            }
        }
        touched.clear();
    }

    private void armAll() {
        for (RdmaIoRegistration registration : snapshot) {
            if (registration.isRemoved()) {
                continue;
            }
            try {
                for (CompletionQueue cq : registration.queues()) {
                    cq.requestNotification(false);
                }
            } catch (VerbsException e) {
                fail(registration, e);
            }
        }
    }

    /** A queue that cannot be polled or armed belongs to a broken handle: close it and forget it. */
    private void fail(RdmaIoRegistration registration, VerbsException cause) {
        LOG.log(System.Logger.Level.WARNING, "removing " + registration + " of " + registration.handle(), cause);
        closeHandle(registration.handle());
        remove(registration);
    }

    @Override
    public IoRegistration register(IoHandle handle) throws Exception {
        RdmaIoHandle rdmaHandle = (RdmaIoHandle) handle;
        int id = nextFreeId();
        RdmaIoRegistration registration = new RdmaIoRegistration(this, executor, id, rdmaHandle);
        long base = (long) id << KIND_BITS;
        boolean completionFdAdded = false;
        try {
            if (registration.completionChannel() != null) {
                epoll.add(registration.completionChannel().fd(), Epoll.EPOLLIN, base | COMPLETION_CHANNEL);
                completionFdAdded = true;
            }
            if (registration.cmEventChannel() != null) {
                epoll.add(registration.cmEventChannel().fd(), Epoll.EPOLLIN, base | CM_CHANNEL);
            }
        } catch (NativeIoException e) {
            if (completionFdAdded) {
                removeQuietly(registration.completionChannel().fd());
            }
            throw e;
        }
        registrations.put(id, registration);
        snapshot = registrations.values().toArray(new RdmaIoRegistration[0]);
        rdmaHandle.registered();
        return registration;
    }

    private int nextFreeId() {
        while (true) {
            int id = nextId;
            // Ids stay positive and below 2^29 so that (id << KIND_BITS) and the wr_id layout never overflow.
            nextId = id >= (1 << 29) ? 1 : id + 1;
            if (!registrations.containsKey(id)) {
                return id;
            }
        }
    }

    /** Removes a registration now: its descriptors leave the epoll set before the handle closes them. */
    void remove(RdmaIoRegistration registration) {
        if (registration.isRemoved()) {
            return;
        }
        registration.markRemoved();
        registrations.remove(registration.id());
        snapshot = registrations.values().toArray(new RdmaIoRegistration[0]);
        if (registration.completionChannel() != null) {
            removeQuietly(registration.completionChannel().fd());
        }
        if (registration.cmEventChannel() != null) {
            removeQuietly(registration.cmEventChannel().fd());
        }
        try {
            registration.handle().unregistered();
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.WARNING, "unregistered() of " + registration.handle() + " failed", t);
        }
    }

    private void removeQuietly(int fd) {
        try {
            epoll.remove(fd);
        } catch (NativeIoException e) {
            // Already closed by a broken handle: the kernel dropped it from the set with its last reference.
            LOG.log(System.Logger.Level.DEBUG, "epoll_ctl(DEL) of fd " + fd + " failed", e);
        }
    }

    @Override
    public void wakeup() {
        if (!executor.isExecutorThread(Thread.currentThread()) && wakeupPending.compareAndSet(false, true)) {
            wakeupFd.signal();
        }
    }

    @Override
    public void prepareToDestroy() {
        for (RdmaIoRegistration registration : snapshot) {
            closeHandle(registration.handle());
        }
    }

    private static void closeHandle(RdmaIoHandle handle) {
        try {
            handle.close();
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "closing " + handle + " failed", e);
        }
    }

    /**
     * Delivers the flush completions of handles closed by {@link #prepareToDestroy()} (bounded, like io_uring's
     * handler), removes every registration, then closes the loop's own descriptors.
     */
    @Override
    public void destroy() {
        // A loop whose shutdown had no quiet period may never have called prepareToDestroy().
        prepareToDestroy();
        long deadline = System.nanoTime() + DESTROY_DRAIN_NANOS;
        while (hasOutstanding() && System.nanoTime() - deadline < 0) {
            if (pollAll() == 0) {
                LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(100));
            }
        }
        for (RdmaIoRegistration registration : snapshot) {
                if (registration.outstanding() > 0) {
                LOG.log(System.Logger.Level.WARNING, "removing " + registration + " with work requests outstanding");
            }
            remove(registration);
        }
        epoll.close();
        wakeupFd.close();
        readyEvents.close();
    }

    private boolean hasOutstanding() {
        for (RdmaIoRegistration registration : snapshot) {
            if (registration.outstanding() > 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * The recorder of the loop a registration belongs to, for the channel that posts through it.
     *
     * @param registration a registration of this handler ({@code attachment()} is the handler)
     * @return the recorder, {@link TransportRecorder#NOOP} when the registration is not an RDMA loop's
     */
    static TransportRecorder recorderOf(IoRegistration registration) {
        return registration.attachment() instanceof RdmaIoHandler handler ? handler.recorder : TransportRecorder.NOOP;
    }

    @Override
    public boolean isCompatible(Class<? extends IoHandle> handleType) {
        return RdmaIoHandle.class.isAssignableFrom(handleType);
    }

    @Override
    public String toString() {
        return "RdmaIoHandler[registrations=" + registrations.size() + ", spinPolls=" + spinPolls + "]";
    }
}
