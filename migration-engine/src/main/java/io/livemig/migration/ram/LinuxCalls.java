package io.livemig.migration.ram;

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
 * The five libc entry points the kernel dirty trackers need ({@code syscall}, {@code ioctl}, {@code open},
 * {@code close}, {@code madvise}), bound through FFM with errno capture, as {@code io.livemig.transport.rdma.unix.Libc} binds its
 * own (that class is the transport's and package-private).
 *
 * <p>{@code syscall}, {@code ioctl} and {@code open} are variadic in C: the linker is told where the variadic part
 * starts, and every variadic argument is passed at the width the callee reads it with ({@code syscall} reads
 * {@code long}s, so the userfaultfd flags go as a {@code long}: an {@code int} would leave the register's upper half
 * undefined).
 *
 * <p>If a symbol is missing the class fails to initialise; {@link DirtyTracking}'s probe turns that into the
 * mode's unavailability cause.
 */
// Linker.downcallHandle is restricted; native access is enabled for the whole JVM by the launcher flag.
@SuppressWarnings("restricted")
final class LinuxCalls {

    /** {@code O_RDONLY}, {@code O_NONBLOCK}, {@code O_CLOEXEC}: asm-generic/fcntl.h (x86-64 and aarch64). */
    static final int O_RDONLY = 0;
    static final int O_NONBLOCK = 0x800;
    static final int O_CLOEXEC = 0x80000;
    /** {@code MADV_NOHUGEPAGE} (2.6.38), {@code MADV_COLD} (5.4): asm-generic/mman-common.h. */
    static final int MADV_NOHUGEPAGE = 15;
    static final int MADV_COLD = 20;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    // long syscall(long number, ...): here with one long argument.
    private static final MethodHandle SYSCALL1 = bind("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG), 1);
    // int ioctl(int fd, unsigned long request, ...): here with one pointer argument.
    private static final MethodHandle IOCTL = bind("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), 2);
    // int open(const char *path, int flags, ...): the mode argument is read only with O_CREAT; passed as 0.
    private static final MethodHandle OPEN = bind("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), 2);
    // int close(int fd)
    private static final MethodHandle CLOSE = bind("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), -1);
    // int madvise(void *addr, size_t length, int advice)
    private static final MethodHandle MADVISE = bind("madvise",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT), -1);

    private LinuxCalls() {
    }

    private static MethodHandle bind(String name, FunctionDescriptor descriptor, int firstVariadicArg) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc symbol not found: " + name));
        return firstVariadicArg < 0 ? LINKER.downcallHandle(symbol, descriptor, CAPTURE_ERRNO)
                : LINKER.downcallHandle(symbol, descriptor, CAPTURE_ERRNO,
                        Linker.Option.firstVariadicArg(firstVariadicArg));
    }

    /**
     * Allocates a capture-state segment for the calls of this class.
     *
     * @param allocator where it lives; its lifetime must cover every call that uses it
     * @return the segment
     */
    static MemorySegment allocateErrnoState(SegmentAllocator allocator) {
        return allocator.allocate(CAPTURE_LAYOUT);
    }

    /**
     * The errno the last call through {@code state} left.
     *
     * @param state a segment from {@link #allocateErrnoState}
     * @return errno
     */
    static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    static long syscall(MemorySegment state, long number, long argument) {
        try {
            return (long) SYSCALL1.invokeExact(state, number, argument);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static int ioctl(MemorySegment state, int fd, long request, MemorySegment argument) {
        try {
            return (int) IOCTL.invokeExact(state, fd, request, argument);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static int open(MemorySegment state, MemorySegment path, int flags) {
        try {
            return (int) OPEN.invokeExact(state, path, flags, 0);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static int close(MemorySegment state, int fd) {
        try {
            return (int) CLOSE.invokeExact(state, fd);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static int madvise(MemorySegment state, long address, long length, int advice) {
        try {
            return (int) MADVISE.invokeExact(state, address, length, advice);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    // A downcall throws only for misuse visible in Java (a closed arena): pass those through.
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
