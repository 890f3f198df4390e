package io.livemig.transport.rdma.unix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * An epoll instance ({@code man 7 epoll}): a set of watched fds and the wait for any of them to become ready.
 *
 * <p>Created with {@code epoll_create1(EPOLL_CLOEXEC)} so a forked helper never inherits it. Registration calls
 * ({@link #add}, {@link #modify}, {@link #remove}) are safe from any thread, as {@code epoll_ctl} is; {@link #wait}
 * belongs to one owner thread (concurrent waiters are serialised) and allocates nothing.
 *
 * <p>{@link #close()} is idempotent and safe from any thread. A wait already blocked keeps the instance alive: the
 * fd is closed only when that wait returns, so a closer on another thread should wake the waiter (signal an
 * {@link EventFd} registered here). Closing the epoll fd does not wake {@code epoll_wait} by itself.
 */
public final class Epoll implements AutoCloseable {

    // Event bits from man 2 epoll_ctl (uapi/linux/eventpoll.h); the same on every Linux architecture.
    /** The fd is readable. */
    public static final int EPOLLIN = 0x001;
    /** The fd is writable. */
    public static final int EPOLLOUT = 0x004;
    /** An error condition; always reported, need not be requested. */
    public static final int EPOLLERR = 0x008;
    /** Hang up; always reported, need not be requested. */
    public static final int EPOLLHUP = 0x010;
    /** The stream peer shut down its writing half. */
    public static final int EPOLLRDHUP = 0x2000;
    /** Edge-triggered: report a change of readiness once rather than while it lasts. */
    public static final int EPOLLET = 1 << 31;

    private static final System.Logger LOG = System.getLogger(Epoll.class.getName());

    private final int fd;
    private final Arena arena;
    /** The {@code struct epoll_event} argument and capture state of epoll_ctl; guarded by {@link #ctlLock}. */
    private final MemorySegment ctlEvent;
    private final MemorySegment ctlErrno;
    /** Capture state of epoll_wait; guarded by {@link #waitLock}. */
    private final MemorySegment waitErrno;
    private final Object ctlLock = new Object();
    private final Object waitLock = new Object();
    private final FdLifecycle lifecycle;

    private Epoll(int fd, Arena arena, MemorySegment ctlEvent, MemorySegment ctlErrno, MemorySegment waitErrno) {
        this.fd = fd;
        this.arena = arena;
        this.ctlEvent = ctlEvent;
        this.ctlErrno = ctlErrno;
        this.waitErrno = waitErrno;
        this.lifecycle = new FdLifecycle(this::release);
    }

    /**
     * Creates an epoll instance with nothing registered.
     *
     * @return the new instance, owned by the caller
     * @throws NativeIoException if {@code epoll_create1} fails (for example {@code EMFILE})
     * @throws UnsatisfiedLinkError if {@link Native} is unavailable
     */
    public static Epoll open() throws NativeIoException {
        Native.ensureAvailability();
        // Shared: registrations come from other threads. All memory exists before the fd, so failure leaks nothing.
        Arena arena = Arena.ofShared();
        boolean success = false;
        try {
            MemorySegment ctlEvent = arena.allocate(EpollEventArray.EPOLL_EVENT);
            MemorySegment ctlErrno = Libc.allocateErrnoState(arena);
            MemorySegment waitErrno = Libc.allocateErrnoState(arena);
            int fd = Libc.epollCreate1(ctlErrno, Libc.EPOLL_CLOEXEC);
            if (fd < 0) {
                throw new NativeIoException("epoll_create1", Libc.errno(ctlErrno));
            }
            Epoll epoll = new Epoll(fd, arena, ctlEvent, ctlErrno, waitErrno);
            success = true;
            return epoll;
        } finally {
            if (!success) {
                arena.close();
            }
        }
    }

    /**
     * The epoll file descriptor (itself pollable, so instances nest).
     *
     * @return the fd number, or -1 once {@link #close()} has been called
     */
    public int fd() {
        return lifecycle.isOpen() ? fd : -1;
    }

    /**
     * Starts watching {@code fd} ({@code EPOLL_CTL_ADD}).
     *
     * @param fd the file descriptor to watch
     * @param events the {@code EPOLL*} bits to watch, such as {@code EPOLLIN | EPOLLET}
     * @param data returned by {@link EpollEventArray#data} when {@code fd} is ready
     * @throws NativeIoException if {@code epoll_ctl} fails ({@code EEXIST} if already watched, {@code EBADF} for a
     *                           closed fd or after {@link #close()}, {@code EPERM} for a regular file)
     */
    public void add(int fd, int events, long data) throws NativeIoException {
        control(Libc.EPOLL_CTL_ADD, fd, events, data);
    }

    /**
     * Changes the events and data of a watched fd ({@code EPOLL_CTL_MOD}).
     *
     * @param fd a file descriptor added before
     * @param events the {@code EPOLL*} bits to watch from now on
     * @param data returned by {@link EpollEventArray#data} from now on
     * @throws NativeIoException if {@code epoll_ctl} fails ({@code ENOENT} if {@code fd} is not watched)
     */
    public void modify(int fd, int events, long data) throws NativeIoException {
        control(Libc.EPOLL_CTL_MOD, fd, events, data);
    }

    /**
     * Stops watching {@code fd} ({@code EPOLL_CTL_DEL}). Remove an fd before closing it: the epoll set tracks the
     * open file, not the number, so a closed fd whose file is still open elsewhere (a dup) would keep reporting.
     *
     * @param fd a file descriptor added before
     * @throws NativeIoException if {@code epoll_ctl} fails ({@code ENOENT} if {@code fd} is not watched)
     */
    public void remove(int fd) throws NativeIoException {
        // Kernels before 2.6.9 required a non-null event even for EPOLL_CTL_DEL (man 2 epoll_ctl, BUGS).
        control(Libc.EPOLL_CTL_DEL, fd, 0, 0L);
    }

    private void control(int op, int targetFd, int events, long data) throws NativeIoException {
        if (!lifecycle.acquire()) {
            throw new NativeIoException("epoll_ctl", Errno.EBADF);
        }
        try {
            synchronized (ctlLock) {
                EpollEventArray.set(ctlEvent, events, data);
                if (Libc.epollCtl(ctlErrno, fd, op, targetFd, ctlEvent) < 0) {
                    throw new NativeIoException("epoll_ctl", Libc.errno(ctlErrno));
                }
            }
        } finally {
            lifecycle.release();
        }
    }

    /**
     * Waits for watched fds to become ready and fills {@code events} with them. Allocates nothing. The wait is a
     * native call, so {@link Thread#interrupt()} does not end it: wake it by signalling a registered {@link EventFd}.
     *
     * @param events where the ready events go; at most {@link EpollEventArray#capacity()} per call
     * @param timeoutMillis the most to wait: -1 waits until an event arrives, 0 returns at once
     * @return the number of ready events, filled from index 0; 0 on timeout or when a signal interrupted the wait
     *         ({@code EINTR}), which callers treat as a spurious wakeup
     * @throws NativeIoException if {@code epoll_wait} fails, or {@code EBADF} after {@link #close()}
     */
    public int wait(EpollEventArray events, int timeoutMillis) throws NativeIoException {
        if (!lifecycle.acquire()) {
            throw new NativeIoException("epoll_wait", Errno.EBADF);
        }
        try {
            synchronized (waitLock) {
                int ready = Libc.epollWait(waitErrno, fd, events.segment(), events.capacity(), timeoutMillis);
                if (ready >= 0) {
                    return ready;
                }
                int errno = Libc.errno(waitErrno);
                if (errno == Errno.EINTR) {
                    return 0;
                }
                throw new NativeIoException("epoll_wait", errno);
            }
        } finally {
            lifecycle.release();
        }
    }

    /**
     * Closes the epoll instance: idempotent and safe from any thread. Later calls fail with {@code EBADF}. The fd
     * is closed now, or when a wait or registration in flight returns. The watched fds stay open: they belong to
     * their own owners.
     */
    @Override
    public void close() {
        lifecycle.close();
    }

    // Runs once, with no call in flight; logs rather than throws, as cleanup must not fail the caller.
    private void release() {
        int errno = FileDescriptors.closeReturningErrno(ctlErrno, fd);
        if (errno != 0) {
            LOG.log(System.Logger.Level.WARNING, "closing epoll fd " + fd + " failed",
                    new NativeIoException("close", errno));
        }
        arena.close();
    }

    @Override
    public String toString() {
        return "Epoll[fd=" + fd + (lifecycle.isOpen() ? "" : ", closed") + "]";
    }
}
