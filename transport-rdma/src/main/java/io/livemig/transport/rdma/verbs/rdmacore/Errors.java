package io.livemig.transport.rdma.verbs.rdmacore;

import io.livemig.transport.rdma.unix.NativeIoException;
import io.livemig.transport.rdma.verbs.VerbsException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * Binding and errno plumbing shared by {@link Ibv}, {@link Cm} and {@link Memlock}.
 *
 * <p>Handles made by {@link #bind} take a capture-state segment as their first argument: the linker copies errno
 * into it right after the call, the only reliable way to read errno from Java (a safepoint or GC between two
 * downcalls may overwrite the thread's errno). The pattern is the one of the {@code unix} package's {@code Libc}.
 */
@SuppressWarnings("restricted")
final class Errors {

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    private Errors() {
    }

    static MethodHandle bind(SymbolLookup lookup, String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(symbol(lookup, name), descriptor, CAPTURE_ERRNO);
    }

    static MethodHandle bindPlain(SymbolLookup lookup, String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(symbol(lookup, name), descriptor);
    }

    private static MemorySegment symbol(SymbolLookup lookup, String name) {
        return lookup.find(name).orElseThrow(() -> new UnsatisfiedLinkError("symbol not found: " + name));
    }

    /**
     * Allocates a capture-state segment.
     *
     * @param allocator where it lives
     * @return the segment
     */
    static MemorySegment allocateErrnoState(SegmentAllocator allocator) {
        return allocator.allocate(CAPTURE_LAYOUT);
    }

    /**
     * The errno captured by the last call that used {@code state}.
     *
     * @param state a segment from {@link #allocateErrnoState}
     * @return the errno
     */
    static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    /**
     * A failed call as a verbs exception whose cause carries the errno.
     *
     * @param call the function name
     * @param errno the errno
     * @return the exception
     */
    static VerbsException failure(String call, int errno) {
        NativeIoException cause = new NativeIoException(call, errno);
        return new VerbsException(cause.getMessage(), cause);
    }

    /**
     * Rethrows what a downcall threw: only misuse visible in Java (a closed arena, a wrong segment) ever does.
     *
     * @param t the throwable
     * @return never returns normally
     */
    static RuntimeException unexpected(Throwable t) {
        if (t instanceof RuntimeException e) {
            throw e;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException("downcall threw a checked exception", t);
    }
}
