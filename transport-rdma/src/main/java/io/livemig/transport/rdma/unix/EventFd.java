package io.livemig.transport.rdma.unix;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A Linux eventfd used as a wakeup: any thread {@link #signal() signals}, the owner polls the fd (directly or through
 * {@link Epoll}) and {@link #drain() drains} it.
 *
 * <p>Created as {@code eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)} ({@code man 2 eventfd}): non-blocking so neither a
 * signal nor a drain can ever park a thread, close-on-exec so a forked helper never inherits it. The counter is
 * readable whenever it is non-zero; one 8-byte read returns it and resets it to zero.
 *
 * <p>The instance owns the fd and its native scratch memory and is closed exactly once; {@link #close()} is
 * idempotent and safe from any thread, also while other threads signal: a signal racing with close either completes
 * on the still-open fd or does nothing, and the fd is released only after the last such call has returned, so a
 * write never reaches a reused fd number.
 */
public final class EventFd implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(EventFd.class.getName());
    private static final long COUNTER_SIZE = Long.BYTES;

    private final int fd;
    private final Arena arena;
    /** Holds the value 1; written once at creation, then only read by {@code write}, so signallers share it. */
    private final MemorySegment one;
    /** Capture state for the slow path of {@link #signal()}; guarded by {@link #signalLock}. */
    private final MemorySegment signalErrno;
    /** Read buffer and capture state of {@link #drain()}; guarded by {@link #drainLock}. */
    private final MemorySegment drainBuffer;
    private final MemorySegment drainErrno;
    private final Object signalLock = new Object();
    private final Object drainLock = new Object();
    private final FdLifecycle lifecycle;

    private EventFd(int fd, Arena arena, MemorySegment one, MemorySegment signalErrno, MemorySegment drainBuffer,
            MemorySegment drainErrno) {
        this.fd = fd;
        this.arena = arena;
        this.one = one;
        this.signalErrno = signalErrno;
        this.drainBuffer = drainBuffer;
        this.drainErrno = drainErrno;
        this.lifecycle = new FdLifecycle(this::release);
    }

    /**
     * Creates an eventfd with counter 0.
     *
     * @return the new eventfd, owned by the caller
     * @throws NativeIoException if {@code eventfd} fails (for example {@code EMFILE})
     * @throws UnsatisfiedLinkError if {@link Native} is unavailable
     */
    public static EventFd open() throws NativeIoException {
        Native.ensureAvailability();
        // A shared arena: signal() runs on arbitrary threads. Everything is allocated before the fd exists, so a
        // failure leaves nothing behind.
        Arena arena = Arena.ofShared();
        boolean success = false;
        try {
            MemorySegment one = arena.allocate(JAVA_LONG);
            one.set(JAVA_LONG, 0, 1L);
            MemorySegment signalErrno = Libc.allocateErrnoState(arena);
            MemorySegment drainBuffer = arena.allocate(JAVA_LONG);
            MemorySegment drainErrno = Libc.allocateErrnoState(arena);
            int fd = Libc.eventfd(drainErrno, 0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
            if (fd < 0) {
                throw new NativeIoException("eventfd", Libc.errno(drainErrno));
            }
            EventFd eventFd = new EventFd(fd, arena, one, signalErrno, drainBuffer, drainErrno);
            success = true;
            return eventFd;
        } finally {
            if (!success) {
                arena.close();
            }
        }
    }

    /**
     * The file descriptor, for registering with {@link Epoll} or {@link FileDescriptors#poll}.
     *
     * @return the fd number, or -1 once {@link #close()} has been called
     */
    public int fd() {
        return lifecycle.isOpen() ? fd : -1;
    }

    /**
     * Whether {@link #close()} has not been called yet.
     *
     * @return true while open
     */
    public boolean isOpen() {
        return lifecycle.isOpen();
    }

    /**
     * Adds 1 to the counter, making the fd readable. Safe from any thread, allocates nothing, never blocks; does
     * nothing once closed. A counter already at its maximum ({@code EAGAIN}) is left as it is: the fd is readable
     * anyway, which is all a wakeup needs.
     *
     * @throws UncheckedIOException wrapping a {@link NativeIoException} if {@code write} fails otherwise (it cannot
     *                              for a valid eventfd and an 8-byte buffer)
     */
    public void signal() {
        if (!lifecycle.acquire()) {
            return;
        }
        try {
            // Signallers run concurrently and would race on one capture segment, so the fast path captures nothing;
            // a failure is retried once under the lock with errno captured. Adding 1 again is harmless: the first
            // write added nothing.
            if (Libc.writeIgnoringErrno(fd, one, COUNTER_SIZE) != COUNTER_SIZE) {
                signalCapturingErrno();
            }
        } finally {
            lifecycle.release();
        }
    }

    private void signalCapturingErrno() {
        synchronized (signalLock) {
            if (Libc.write(signalErrno, fd, one, COUNTER_SIZE) == COUNTER_SIZE) {
                return;
            }
            int errno = Libc.errno(signalErrno);
            if (errno != Errno.EAGAIN) {
                throw new UncheckedIOException(new NativeIoException("write", errno));
            }
        }
    }

    /**
     * Reads and resets the counter. Meant for the owner thread; concurrent callers are serialised. Allocates nothing.
     *
     * @return the counter before the reset (unsigned; at most {@code 0xfffffffffffffffe}), or 0 if it was already
     *         zero ({@code EAGAIN}) or the eventfd is closed
     * @throws UncheckedIOException wrapping a {@link NativeIoException} if {@code read} fails otherwise
     */
    public long drain() {
        if (!lifecycle.acquire()) {
            return 0;
        }
        try {
            synchronized (drainLock) {
                return readCounter();
            }
        } finally {
            lifecycle.release();
        }
    }

    // Caller holds drainLock or is the release action (when no other call is in flight).
    private long readCounter() {
        if (Libc.read(drainErrno, fd, drainBuffer, COUNTER_SIZE) == COUNTER_SIZE) {
            return drainBuffer.get(JAVA_LONG, 0);
        }
        int errno = Libc.errno(drainErrno);
        if (errno == Errno.EAGAIN) {
            return 0;
        }
        throw new UncheckedIOException(new NativeIoException("read", errno));
    }

    /**
     * Closes the eventfd: idempotent, safe from any thread and concurrent with {@link #signal()}. Later signals do
     * nothing and later drains return 0. If signals are in flight, the fd is drained and closed when the last of
     * them returns, otherwise before this method returns.
     */
    @Override
    public void close() {
        lifecycle.close();
    }

    // Runs once, with no signal or drain in flight; logs rather than throws, as cleanup must not fail the caller.
    private void release() {
        try {
            // Drained before closing, as Netty's epoll loop does, so no wakeup is left pending on a dying fd.
            readCounter();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "draining eventfd " + fd + " before close failed", e);
        }
        int errno = FileDescriptors.closeReturningErrno(drainErrno, fd);
        if (errno != 0) {
            LOG.log(System.Logger.Level.WARNING, "closing eventfd " + fd + " failed",
                    new NativeIoException("close", errno));
        }
        arena.close();
    }

    @Override
    public String toString() {
        return "EventFd[fd=" + fd + (isOpen() ? "" : ", closed") + "]";
    }
}
