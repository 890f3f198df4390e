package io.livemig.transport.rdma.unix;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Operations on raw file descriptors that belong to nobody in this package: fds handed over by rdma-core (a
 * completion channel, an rdma_cm event channel) and the test-side view of the process's fd table.
 *
 * <p>These are control-path calls: each allocates its small native scratch memory per call.
 */
public final class FileDescriptors {

    // Event bits from man 2 poll; numerically equal to the EPOLL* bits, but a separate API.
    /** Data to read. */
    public static final int POLLIN = 0x001;
    /** Urgent data to read. */
    public static final int POLLPRI = 0x002;
    /** Writing will not block. */
    public static final int POLLOUT = 0x004;
    /** An error condition (reported in revents only). */
    public static final int POLLERR = 0x008;
    /** Hang up (reported in revents only). */
    public static final int POLLHUP = 0x010;
    /** The fd is not open (reported in revents only). */
    public static final int POLLNVAL = 0x020;

    /** {@code struct pollfd { int fd; short events; short revents; }}, 8 bytes on every Linux architecture. */
    static final StructLayout POLLFD = MemoryLayout.structLayout(
            JAVA_INT.withName("fd"), JAVA_SHORT.withName("events"), JAVA_SHORT.withName("revents"));
    private static final VarHandle POLLFD_FD = POLLFD.varHandle(groupElement("fd"));
    private static final VarHandle POLLFD_EVENTS = POLLFD.varHandle(groupElement("events"));
    private static final VarHandle POLLFD_REVENTS = POLLFD.varHandle(groupElement("revents"));

    private static final Path PROC_SELF_FD = Path.of("/proc/self/fd");

    private FileDescriptors() {
    }

    /**
     * Puts {@code fd} in non-blocking mode ({@code fcntl F_GETFL}, then {@code F_SETFL} with {@code O_NONBLOCK}),
     * keeping its other status flags. An fd to be watched edge-triggered by {@link Epoll} must be non-blocking, or
     * the read loop that drains it stalls on the last empty read ({@code man 7 epoll}).
     *
     * @param fd an open file descriptor
     * @throws NativeIoException if {@code fcntl} fails ({@code EBADF} for a closed fd)
     */
    public static void setNonBlocking(int fd) throws NativeIoException {
        Native.ensureAvailability();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.allocateErrnoState(arena);
            int flags = Libc.fcntl(state, fd, Libc.F_GETFL, 0);
            if (flags < 0) {
                throw new NativeIoException("fcntl", Libc.errno(state));
            }
            if ((flags & Libc.O_NONBLOCK) == 0 && Libc.fcntl(state, fd, Libc.F_SETFL, flags | Libc.O_NONBLOCK) < 0) {
                throw new NativeIoException("fcntl", Libc.errno(state));
            }
        }
    }

    /**
     * Waits for one fd to become ready ({@code man 2 poll}). A signal interrupting the wait ({@code EINTR}) does
     * not end it early: the wait resumes for the time that remains.
     *
     * @param fd the file descriptor
     * @param events the {@code POLL*} bits of interest, such as {@link #POLLIN}
     * @param timeoutMillis the most to wait: -1 (any negative) waits until ready, 0 returns at once
     * @return the ready bits (revents), which may include {@link #POLLERR}, {@link #POLLHUP} or {@link #POLLNVAL}
     *         (the fd is not open) even if not requested; 0 on timeout
     * @throws NativeIoException if {@code poll} fails
     */
    public static int poll(int fd, int events, int timeoutMillis) throws NativeIoException {
        Native.ensureAvailability();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(timeoutMillis, 0));
        int remaining = timeoutMillis;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pollFd = arena.allocate(POLLFD);
            MemorySegment state = Libc.allocateErrnoState(arena);
            POLLFD_FD.set(pollFd, 0L, fd);
            POLLFD_EVENTS.set(pollFd, 0L, (short) events);
            for (;;) {
                int ready = Libc.poll(state, pollFd, 1L, remaining);
                if (ready > 0) {
                    return Short.toUnsignedInt((short) POLLFD_REVENTS.get(pollFd, 0L));
                }
                if (ready == 0) {
                    return 0;
                }
                int errno = Libc.errno(state);
                if (errno != Errno.EINTR) {
                    throw new NativeIoException("poll", errno);
                }
                if (timeoutMillis > 0) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return 0;
                    }
                    // Round up: returning a little late is fine, returning early would report a false timeout.
                    remaining = (int) Math.min(Integer.MAX_VALUE, Math.ceilDiv(left, TimeUnit.MILLISECONDS.toNanos(1)));
                }
            }
        }
    }

    /**
     * Closes a file descriptor. An {@code EINTR} from {@code close} counts as success: on Linux the fd is released
     * before the interruption is reported, and retrying could close a number another thread has just been given
     * ({@code man 2 close}).
     *
     * @param fd the file descriptor
     * @throws NativeIoException if {@code close} fails otherwise ({@code EBADF} if not open)
     */
    public static void close(int fd) throws NativeIoException {
        Native.ensureAvailability();
        try (Arena arena = Arena.ofConfined()) {
            int errno = closeReturningErrno(Libc.allocateErrnoState(arena), fd);
            if (errno != 0) {
                throw new NativeIoException("close", errno);
            }
        }
    }

    /**
     * Closes {@code fd} with the EINTR rule of {@link #close(int)}, for owners that keep their own capture state.
     *
     * @return 0 on success, else the errno
     */
    static int closeReturningErrno(MemorySegment errnoState, int fd) {
        if (Libc.close(errnoState, fd) == 0) {
            return 0;
        }
        int errno = Libc.errno(errnoState);
        return errno == Errno.EINTR ? 0 : errno;
    }

    /**
     * Counts this process's open file descriptors, for leak checks in tests. The count includes the descriptor used
     * to list the directory, so compare two counts with each other, never with an absolute number.
     *
     * @return the number of entries in {@code /proc/self/fd}, or -1 if it cannot be listed
     */
    public static int openFileDescriptorCount() {
        try (Stream<Path> entries = Files.list(PROC_SELF_FD)) {
            return Math.toIntExact(entries.count());
        } catch (IOException | UncheckedIOException e) {
            return -1;
        }
    }
}
