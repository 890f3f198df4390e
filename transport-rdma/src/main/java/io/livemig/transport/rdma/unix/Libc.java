package io.livemig.transport.rdma.unix;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The libc functions this package binds, each as one downcall handle created when the class initialises.
 *
 * <p>Every wrapper that can fail takes a capture-state segment as its first argument: the linker copies the
 * calling thread's {@code errno} into it right after the call returns, which is the only reliable way to read
 * errno from Java (any JVM activity between two downcalls, a safepoint or a GC, may overwrite the thread's errno).
 * Allocate one with {@link #allocateErrnoState} and read it with {@link #errno}.
 *
 * <p>If a symbol is missing (a libc without {@code eventfd}, a non-Linux system) the class fails to initialise;
 * {@link Native} turns that into its unavailability cause, so no other class touches this one before the gate.
 *
 * <p>Constants are the generic Linux values, valid on x86-64 and aarch64, the two architectures {@link Native}
 * admits (some, like {@code O_NONBLOCK}, differ on alpha, mips, parisc and sparc).
 *
 * <p>Public for the few calls other modules make (the migration engine's kernel dirty trackers: {@link #syscall},
 * {@link #ioctl}, {@link #open}, {@link #madvise}, {@link #close}), so that livemig binds each libc function once;
 * the rest stays this package's. A caller outside it must check availability its own way (a class that fails to
 * initialise is its cause).
 *
 * <p>{@code syscall}, {@code ioctl} and {@code open} are variadic in C: the linker is told where the variadic part
 * starts, and every variadic argument is passed at the width the callee reads it with ({@code syscall} reads
 * {@code long}s, so an {@code int} flag goes as a {@code long}: an {@code int} would leave the register's upper half
 * undefined).
 */
// Linker.downcallHandle is a restricted method; native access is enabled for the whole JVM by the launcher flag.
@SuppressWarnings("restricted")
public final class Libc {

    /** {@code EFD_CLOEXEC} from {@code man 2 eventfd}: equal to {@code O_CLOEXEC}. */
    static final int EFD_CLOEXEC = 0x80000;
    /** {@code EFD_NONBLOCK} from {@code man 2 eventfd}: equal to {@code O_NONBLOCK}. */
    static final int EFD_NONBLOCK = 0x800;
    /** {@code EPOLL_CLOEXEC} from {@code man 2 epoll_create1}: equal to {@code O_CLOEXEC}. */
    static final int EPOLL_CLOEXEC = 0x80000;
    /** {@code epoll_ctl} operations from {@code man 2 epoll_ctl}. */
    static final int EPOLL_CTL_ADD = 1;
    static final int EPOLL_CTL_DEL = 2;
    static final int EPOLL_CTL_MOD = 3;
    /** {@code fcntl} commands and the flag from {@code man 2 fcntl}. */
    static final int F_GETFL = 3;
    static final int F_SETFL = 4;
    /** {@code O_NONBLOCK} (also an {@code open} and {@code userfaultfd} flag). */
    public static final int O_NONBLOCK = 0x800;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    // int eventfd(unsigned int initval, int flags)
    private static final MethodHandle EVENTFD = bind("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    // int epoll_create1(int flags)
    private static final MethodHandle EPOLL_CREATE1 = bind("epoll_create1", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    // int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
    private static final MethodHandle EPOLL_CTL =
            bind("epoll_ctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    // int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout)
    private static final MethodHandle EPOLL_WAIT =
            bind("epoll_wait", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    // ssize_t read(int fd, void *buf, size_t count)
    private static final MethodHandle READ =
            bind("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    // ssize_t write(int fd, const void *buf, size_t count)
    private static final MethodHandle WRITE =
            bind("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    // The same write without errno capture, for callers that share no capture segment (see EventFd.signal).
    private static final MethodHandle WRITE_NO_ERRNO = LINKER.downcallHandle(
            symbol("write"), FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    // int close(int fd)
    private static final MethodHandle CLOSE = bind("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    // int fcntl(int fd, int cmd, ...): variadic, so the linker must be told where the variadic part starts;
    // passing an int third argument to F_GETFL is harmless (the kernel ignores it).
    private static final MethodHandle FCNTL = LINKER.downcallHandle(symbol("fcntl"),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT),
            CAPTURE_ERRNO, Linker.Option.firstVariadicArg(2));
    // int poll(struct pollfd *fds, nfds_t nfds, int timeout), nfds_t being unsigned long
    private static final MethodHandle POLL =
            bind("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    // void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset)
    private static final MethodHandle MMAP = bind("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    // int munmap(void *addr, size_t length)
    private static final MethodHandle MUNMAP = bind("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    // int madvise(void *addr, size_t length, int advice)
    private static final MethodHandle MADVISE =
            bind("madvise", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    // long sysconf(int name)
    private static final MethodHandle SYSCONF = bind("sysconf", FunctionDescriptor.of(JAVA_LONG, JAVA_INT));
    // long syscall(long number, ...): here with one long argument.
    private static final MethodHandle SYSCALL1 = bindVariadic("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG), 1);
    // int ioctl(int fd, unsigned long request, ...): here with one pointer argument.
    private static final MethodHandle IOCTL = bindVariadic("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), 2);
    // int open(const char *path, int flags, ...): the mode argument is read only with O_CREAT; passed as 0.
    private static final MethodHandle OPEN = bindVariadic("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), 2);

    /** {@code mmap} protection and flags from {@code man 2 mmap} (generic Linux values). */
    static final int PROT_READ = 0x1;
    static final int PROT_WRITE = 0x2;
    static final int MAP_PRIVATE = 0x02;
    static final int MAP_ANONYMOUS = 0x20;
    static final int MAP_NORESERVE = 0x4000;
    /** {@code MAP_FAILED}: {@code (void *) -1}. */
    static final long MAP_FAILED = -1L;
    /** {@code madvise} advice from {@code man 2 madvise}. */
    static final int MADV_HUGEPAGE = 14;
    /** {@code madvise} advice: fault in (populate) writable pages now (Linux 5.14+, asm-generic/mman-common.h). */
    static final int MADV_POPULATE_WRITE = 23;
    /** {@code sysconf} name of the page size. */
    static final int SC_PAGESIZE = 30;
    /** {@code open} flags from {@code man 2 open} (asm-generic/fcntl.h). */
    public static final int O_RDONLY = 0;
    /** {@code O_CLOEXEC}. */
    public static final int O_CLOEXEC = 0x80000;
    /** {@code madvise} advice: no transparent huge pages here (2.6.38). */
    public static final int MADV_NOHUGEPAGE = 15;
    /** {@code madvise} advice: deactivate the pages (5.4); on part of a huge page, splits it. */
    public static final int MADV_COLD = 20;

    private Libc() {
    }

    private static MemorySegment symbol(String name) {
        return LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc symbol not found: " + name));
    }

    private static MethodHandle bind(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(symbol(name), descriptor, CAPTURE_ERRNO);
    }

    private static MethodHandle bindVariadic(String name, FunctionDescriptor descriptor, int firstVariadicArg) {
        return LINKER.downcallHandle(symbol(name), descriptor, CAPTURE_ERRNO,
                Linker.Option.firstVariadicArg(firstVariadicArg));
    }

    /**
     * Allocates a capture-state segment for the wrappers of this class.
     *
     * @param allocator where the segment lives; its lifetime must cover every call that uses it
     * @return a zeroed segment of {@link Linker.Option#captureStateLayout()}
     */
    public static MemorySegment allocateErrnoState(SegmentAllocator allocator) {
        return allocator.allocate(CAPTURE_LAYOUT);
    }

    /**
     * Reads the errno captured by the last call that used {@code state}.
     *
     * @param state a segment from {@link #allocateErrnoState}
     * @return the errno value
     */
    public static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    static int eventfd(MemorySegment state, int initval, int flags) {
        try {
            return (int) EVENTFD.invokeExact(state, initval, flags);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static int epollCreate1(MemorySegment state, int flags) {
        try {
            return (int) EPOLL_CREATE1.invokeExact(state, flags);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static int epollCtl(MemorySegment state, int epfd, int op, int fd, MemorySegment event) {
        try {
            return (int) EPOLL_CTL.invokeExact(state, epfd, op, fd, event);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static int epollWait(MemorySegment state, int epfd, MemorySegment events, int maxEvents, int timeout) {
        try {
            return (int) EPOLL_WAIT.invokeExact(state, epfd, events, maxEvents, timeout);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static long read(MemorySegment state, int fd, MemorySegment buf, long count) {
        try {
            return (long) READ.invokeExact(state, fd, buf, count);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static long write(MemorySegment state, int fd, MemorySegment buf, long count) {
        try {
            return (long) WRITE.invokeExact(state, fd, buf, count);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** {@code write} that leaves errno uncaptured: use only where any failure is retried through {@link #write}. */
    static long writeIgnoringErrno(int fd, MemorySegment buf, long count) {
        try {
            return (long) WRITE_NO_ERRNO.invokeExact(fd, buf, count);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * {@code close(2)}.
     *
     * @param state errno capture
     * @param fd the descriptor
     * @return 0, or -1 with errno in {@code state}
     */
    public static int close(MemorySegment state, int fd) {
        try {
            return (int) CLOSE.invokeExact(state, fd);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static int fcntl(MemorySegment state, int fd, int cmd, int arg) {
        try {
            return (int) FCNTL.invokeExact(state, fd, cmd, arg);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static int poll(MemorySegment state, MemorySegment fds, long nfds, int timeout) {
        try {
            return (int) POLL.invokeExact(state, fds, nfds, timeout);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static long mmap(MemorySegment state, long length, int prot, int flags) {
        try {
            return ((MemorySegment) MMAP.invokeExact(state, MemorySegment.NULL, length, prot, flags, -1, 0L)).address();
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static int munmap(MemorySegment state, long address, long length) {
        try {
            return (int) MUNMAP.invokeExact(state, MemorySegment.ofAddress(address), length);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * {@code madvise(2)}.
     *
     * @param state errno capture
     * @param address page-aligned start
     * @param length bytes
     * @param advice for example {@link #MADV_NOHUGEPAGE}
     * @return 0, or -1 with errno in {@code state}
     */
    public static int madvise(MemorySegment state, long address, long length, int advice) {
        try {
            return (int) MADVISE.invokeExact(state, MemorySegment.ofAddress(address), length, advice);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static long sysconf(MemorySegment state, int name) {
        try {
            return (long) SYSCONF.invokeExact(state, name);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * {@code syscall(2)} with one argument, for a system call libc has no wrapper for ({@code userfaultfd}).
     *
     * @param state errno capture
     * @param number the architecture's system call number
     * @param argument its argument, widened to {@code long}
     * @return the call's result, or -1 with errno in {@code state}
     */
    public static long syscall(MemorySegment state, long number, long argument) {
        try {
            return (long) SYSCALL1.invokeExact(state, number, argument);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * {@code ioctl(2)} with a pointer argument.
     *
     * @param state errno capture
     * @param fd the descriptor
     * @param request the request number
     * @param argument the structure the request reads and writes
     * @return the request's result, or -1 with errno in {@code state}
     */
    public static int ioctl(MemorySegment state, int fd, long request, MemorySegment argument) {
        try {
            return (int) IOCTL.invokeExact(state, fd, request, argument);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * {@code open(2)} without {@code O_CREAT}.
     *
     * @param state errno capture
     * @param path a NUL-terminated path
     * @param flags for example {@link #O_RDONLY} | {@link #O_CLOEXEC}
     * @return the descriptor, or -1 with errno in {@code state}
     */
    public static int open(MemorySegment state, MemorySegment path, int flags) {
        try {
            return (int) OPEN.invokeExact(state, path, flags, 0);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    // A downcall throws only for misuse visible in Java (a closed arena, a wrong segment): pass those through.
    private static RuntimeException unexpected(Throwable t) {
        if (t instanceof RuntimeException e) {
            throw e;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException("downcall threw a checked exception", t);
    }
}
