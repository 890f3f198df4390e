package io.livemig.migration.ram;

import io.livemig.transport.rdma.unix.Libc;
import io.livemig.transport.rdma.unix.Errno;
import io.livemig.transport.rdma.unix.NativeIoException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The {@code PAGEMAP_SCAN} ioctl on {@code /proc/self/pagemap} (Linux 6.7, Documentation/admin-guide/mm/
 * pagemap.rst): walks a range of this process's page tables and reports the pages whose categories match as
 * {@code struct page_region} runs; with {@code PM_SCAN_WP_MATCHING} it also write-protects the pages it reports,
 * under the page-table lock, so reading which pages were written and re-arming them is one atomic step per page.
 *
 * <p>Layouts and numbers are those of include/uapi/linux/fs.h (6.7), which the installed linux-libc-dev 6.1 headers
 * lack: {@code PAGEMAP_SCAN = _IOWR('f', 16, struct pm_scan_arg)} with the 96-byte argument is 0xc0606610 (checked
 * with a C compiler against the installed {@code _IOWR}; the same on x86-64 and aarch64).
 *
 * <p>One owner, one thread at a time (the scan buffers are reused); {@link #close()} is idempotent.
 */
final class Pagemap implements AutoCloseable {

    /** {@code PAGEMAP_SCAN}. */
    static final long PAGEMAP_SCAN = 0xc0606610L;
    /** {@code PM_SCAN_WP_MATCHING}: write-protect the pages reported. */
    static final long PM_SCAN_WP_MATCHING = 1L << 0;
    /** {@code PM_SCAN_CHECK_WPASYNC}: fail with EPERM on a page not in async write-protect mode. */
    static final long PM_SCAN_CHECK_WPASYNC = 1L << 1;
    /** {@code PAGE_IS_WRITTEN}: no write-protection (uffd-wp), i.e. written since last protected. */
    static final long PAGE_IS_WRITTEN = 1L << 1;
    /** {@code sizeof(struct pm_scan_arg)}: twelve {@code __u64}. */
    static final int SCAN_ARG_SIZE = 96;
    /** {@code sizeof(struct page_region)}: {@code __u64 start, end, categories}. */
    static final int REGION_SIZE = 24;
    /** Regions returned per ioctl: 96 KiB of buffer; a scan that finds more resumes from {@code walk_end}. */
    static final int REGIONS = 4096;

    /** Receives one run of pages, as virtual addresses. */
    @FunctionalInterface
    interface RegionConsumer {
        /**
         * One run.
         *
         * @param start address of the first page
         * @param end address just past the last page
         */
        void accept(long start, long end);
    }

    private final int fd;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment state;
    private final MemorySegment arg;
    private final MemorySegment regions;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Pagemap(int fd) {
        this.fd = fd;
        this.state = Libc.allocateErrnoState(arena);
        this.arg = arena.allocate(SCAN_ARG_SIZE, 8);
        this.regions = arena.allocate((long) REGION_SIZE * REGIONS, 8);
    }

    /**
     * Opens {@code /proc/self/pagemap} read-only.
     *
     * @return the owner of the fd
     * @throws NativeIoException if it cannot be opened
     */
    static Pagemap open() throws NativeIoException {
        try (Arena scratch = Arena.ofConfined()) {
            MemorySegment state = Libc.allocateErrnoState(scratch);
            int fd = Libc.open(state, scratch.allocateFrom("/proc/self/pagemap"),
                    Libc.O_RDONLY | Libc.O_CLOEXEC);
            if (fd < 0) {
                throw new NativeIoException("open(/proc/self/pagemap)", Libc.errno(state));
            }
            return new Pagemap(fd);
        }
    }

    /**
     * Reports the pages of {@code [start, end)} written since they were last write-protected, in ascending runs,
     * and when {@code reprotect} is set write-protects them again in the same walk. Every page of the range must be
     * registered with a {@link Userfaultfd} in async mode ({@code PM_SCAN_CHECK_WPASYNC} fails the scan otherwise).
     *
     * @param start page-aligned start address
     * @param end page-aligned end address (exclusive)
     * @param reprotect whether to re-arm the pages reported
     * @param consumer receives each run
     * @throws NativeIoException if the ioctl fails ({@code ENOTTY}/{@code EINVAL} before Linux 6.7)
     */
    synchronized void scanWritten(long start, long end, boolean reprotect, RegionConsumer consumer)
            throws NativeIoException {
        long from = start;
        while (from < end) {
            arg.set(ValueLayout.JAVA_LONG, 0, SCAN_ARG_SIZE);                              // size
            arg.set(ValueLayout.JAVA_LONG, 8, PM_SCAN_CHECK_WPASYNC | (reprotect ? PM_SCAN_WP_MATCHING : 0)); // flags
            arg.set(ValueLayout.JAVA_LONG, 16, from);                                      // start
            arg.set(ValueLayout.JAVA_LONG, 24, end);                                       // end
            arg.set(ValueLayout.JAVA_LONG, 32, 0);                                         // walk_end (out)
            arg.set(ValueLayout.JAVA_LONG, 40, regions.address());                         // vec
            arg.set(ValueLayout.JAVA_LONG, 48, REGIONS);                                   // vec_len
            arg.set(ValueLayout.JAVA_LONG, 56, 0);                                         // max_pages: no limit
            arg.set(ValueLayout.JAVA_LONG, 64, 0);                                         // category_inverted
            arg.set(ValueLayout.JAVA_LONG, 72, PAGE_IS_WRITTEN);                           // category_mask
            arg.set(ValueLayout.JAVA_LONG, 80, 0);                                         // category_anyof_mask
            arg.set(ValueLayout.JAVA_LONG, 88, PAGE_IS_WRITTEN);                           // return_mask
            int found = Libc.ioctl(state, fd, PAGEMAP_SCAN, arg);
            if (found < 0) {
                int errno = Libc.errno(state);
                if (errno == Errno.EINTR) {
                    continue;
                }
                throw new NativeIoException("ioctl(PAGEMAP_SCAN)", errno);
            }
            for (int i = 0; i < found; i++) {
                long offset = (long) i * REGION_SIZE;
                consumer.accept(regions.get(ValueLayout.JAVA_LONG, offset),
                        regions.get(ValueLayout.JAVA_LONG, offset + 8));
            }
            // The walk stops early when the region buffer is full; walk_end says where to resume.
            long walkEnd = arg.get(ValueLayout.JAVA_LONG, 32);
            if (walkEnd <= from) {
                throw new IllegalStateException("PAGEMAP_SCAN made no progress at 0x" + Long.toHexString(from));
            }
            from = walkEnd;
        }
    }

    /** Closes the fd and frees the buffers (idempotent). */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            synchronized (this) {
                if (Libc.close(state, fd) != 0) {
                    System.getLogger(Pagemap.class.getName()).log(System.Logger.Level.WARNING,
                            "closing /proc/self/pagemap failed",
                            new NativeIoException("close", Libc.errno(state)));
                }
                arena.close();
            }
        }
    }
}
