package io.livemig.transport.rdma.unix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A private anonymous memory mapping ({@code mmap(NULL, size, PROT_READ|PROT_WRITE,
 * MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE, -1, 0)}, {@code man 2 mmap}): page-aligned, contiguous in
 * virtual memory, of any size, and zero-filled lazily by the kernel, so that reserving a 64 GiB RAM block
 * costs neither time nor memory until pages are touched. This is how a VMM allocates guest RAM, and what
 * RDMA needs: remote addresses are the block's base plus an offset.
 *
 * <p>One owner; {@link #close()} unmaps, is idempotent and safe from any thread. The {@link #segment()}
 * belongs to a shared arena closed by {@code close()}, so any later access fails with
 * {@link IllegalStateException} instead of touching unmapped memory.
 */
public final class AnonymousMemory implements AutoCloseable {

    private static final long PAGE_SIZE = probePageSize();

    private final Arena arena;
    private final MemorySegment segment;
    private final AtomicBoolean closed = new AtomicBoolean();

    private AnonymousMemory(Arena arena, MemorySegment segment) {
        this.arena = arena;
        this.segment = segment;
    }

    /**
     * Maps {@code size} bytes, rounded up to whole pages.
     *
     * @param size bytes wanted, at least 1
     * @return the mapping, owned by the caller
     * @throws NativeIoException if {@code mmap} fails (for example {@code ENOMEM})
     */
    public static AnonymousMemory map(long size) throws NativeIoException {
        if (size <= 0) {
            throw new IllegalArgumentException("mapping size must be positive: " + size);
        }
        Native.ensureAvailability();
        long length = roundUpToPage(size);
        Arena arena = Arena.ofShared();
        boolean success = false;
        try {
            MemorySegment state = Libc.allocateErrnoState(arena);
            long address = Libc.mmap(state, length, Libc.PROT_READ | Libc.PROT_WRITE,
                    Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE);
            if (address == Libc.MAP_FAILED) {
                throw new NativeIoException("mmap", Libc.errno(state));
            }
            // The cleanup runs when the arena closes: the mapping lives exactly as long as the segment.
            @SuppressWarnings("restricted")
            MemorySegment segment = MemorySegment.ofAddress(address).reinterpret(length, arena, s -> unmap(s, length));
            success = true;
            return new AnonymousMemory(arena, segment);
        } finally {
            if (!success) {
                arena.close();
            }
        }
    }

    private static void unmap(MemorySegment base, long length) {
        try (Arena scratch = Arena.ofConfined()) {
            MemorySegment state = Libc.allocateErrnoState(scratch);
            if (Libc.munmap(state, base.address(), length) != 0) {
                System.getLogger(AnonymousMemory.class.getName()).log(System.Logger.Level.WARNING,
                        "munmap of " + length + " bytes failed", new NativeIoException("munmap", Libc.errno(state)));
            }
        }
    }

    /**
     * The system page size ({@code sysconf(_SC_PAGESIZE)}).
     *
     * @return bytes per page, 4096 on x86-64
     */
    public static long pageSize() {
        return PAGE_SIZE;
    }

    /**
     * Rounds up to a whole number of pages.
     *
     * @param size bytes
     * @return the smallest page multiple at least {@code size}
     */
    public static long roundUpToPage(long size) {
        return Math.ceilDiv(size, PAGE_SIZE) * PAGE_SIZE;
    }

    /**
     * The mapped memory (its length is the page-rounded size).
     *
     * @return the segment, valid until {@link #close()}
     */
    public MemorySegment segment() {
        return segment;
    }

    /**
     * Asks for transparent huge pages ({@code madvise(MADV_HUGEPAGE)}); a hint the kernel may ignore.
     *
     * @return true if the kernel accepted the advice
     */
    public boolean adviseHugePages() {
        try (Arena scratch = Arena.ofConfined()) {
            MemorySegment state = Libc.allocateErrnoState(scratch);
            return Libc.madvise(state, segment.address(), segment.byteSize(), Libc.MADV_HUGEPAGE) == 0;
        }
    }

    /**
     * Commits a range of the mapping now ({@code madvise(MADV_POPULATE_WRITE)}), as QEMU's
     * {@code -mem-prealloc} does, so that later writes take no page faults. Where the kernel lacks the advice
     * (before Linux 5.14) the range is touched one page at a time instead, rewriting each page's first byte:
     * call it before the memory is shared with writers.
     *
     * @param offset start of the range, a multiple of the page size
     * @param length bytes
     */
    public void populate(long offset, long length) {
        MemorySegment range = segment.asSlice(offset, length);
        try (Arena scratch = Arena.ofConfined()) {
            MemorySegment state = Libc.allocateErrnoState(scratch);
            if (Libc.madvise(state, range.address(), length, Libc.MADV_POPULATE_WRITE) == 0) {
                return;
            }
        }
        long page = pageSize();
        for (long at = 0; at < length; at += page) {
            // A write of the byte already there: commits the page without changing it.
            range.set(ValueLayout.JAVA_BYTE, at, range.get(ValueLayout.JAVA_BYTE, at));
        }
    }

    /**
     * Whether {@link #close()} has not been called.
     *
     * @return true while mapped
     */
    public boolean isOpen() {
        return !closed.get();
    }

    /** Unmaps the memory. Idempotent; safe from any thread. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            arena.close();
        }
    }

    private static long probePageSize() {
        if (!Native.isAvailable()) {
            return 4096;
        }
        try (Arena scratch = Arena.ofConfined()) {
            long size = Libc.sysconf(Libc.allocateErrnoState(scratch), Libc.SC_PAGESIZE);
            return size > 0 ? size : 4096;
        }
    }

    @Override
    public String toString() {
        return "AnonymousMemory[address=0x" + Long.toHexString(segment.address()) + ", size=" + segment.byteSize()
                + (isOpen() ? "" : ", unmapped") + "]";
    }
}
