package io.livemig.migration.ram;

import io.livemig.transport.rdma.unix.Libc;
import io.livemig.transport.rdma.unix.Errno;
import io.livemig.transport.rdma.unix.NativeIoException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A userfaultfd in asynchronous write-protect mode ({@code man 2 userfaultfd}, Documentation/admin-guide/mm/
 * userfaultfd.rst, "Write Protect Notifications"): registered ranges are write-protected by
 * {@link #writeProtect}, and a write to a protected page is resolved by the kernel itself, which only lifts the
 * page's protection ({@code UFFD_FEATURE_WP_ASYNC}, Linux 6.7): no message is queued and no thread of ours is
 * involved. {@link Pagemap#scanWritten} then finds the unprotected pages and protects them again in one call.
 * {@code UFFD_FEATURE_WP_UNPOPULATED} makes protection cover pages never touched yet (the kernel installs PTE
 * markers), so a first write to them is seen too.
 *
 * <p>Layouts and numbers are those of include/uapi/linux/userfaultfd.h. The installed headers (linux-libc-dev
 * 6.1) predate the two features, whose bits come from the 6.7 header; the ioctl numbers were checked against the
 * installed header's {@code _IOWR} expansions with a C compiler ({@code UFFDIO_API} 0xc018aa3f,
 * {@code UFFDIO_REGISTER} 0xc020aa00, {@code UFFDIO_WRITEPROTECT} 0xc018aa06), and are the same on x86-64 and
 * aarch64 (asm-generic/ioctl.h).
 *
 * <p>One owner; {@link #close()} is idempotent. Closing the fd unregisters every range and lifts the protection
 * of its pages (fs/userfaultfd.c, {@code userfaultfd_release}).
 */
final class Userfaultfd implements AutoCloseable {

    /** {@code __NR_userfaultfd}: arch/x86/entry/syscalls/syscall_64.tbl (323), asm-generic/unistd.h (282). */
    static final long SYS_USERFAULTFD = isAarch64() ? 282 : 323;
    /** Handle faults of user-mode accesses only: allowed without privilege even when vm.unprivileged_userfaultfd=0. */
    static final long UFFD_USER_MODE_ONLY = 1;
    /** {@code UFFD_API}. */
    static final long UFFD_API = 0xAA;
    /** {@code UFFD_FEATURE_WP_UNPOPULATED} (Linux 6.4). */
    static final long UFFD_FEATURE_WP_UNPOPULATED = 1L << 13;
    /** {@code UFFD_FEATURE_WP_ASYNC} (Linux 6.7). */
    static final long UFFD_FEATURE_WP_ASYNC = 1L << 15;
    /** {@code UFFDIO_API = _IOWR(0xAA, 0x3F, struct uffdio_api)}, 24 bytes. */
    static final long UFFDIO_API = 0xc018aa3fL;
    /** {@code UFFDIO_REGISTER = _IOWR(0xAA, 0x00, struct uffdio_register)}, 32 bytes. */
    static final long UFFDIO_REGISTER = 0xc020aa00L;
    /** {@code UFFDIO_WRITEPROTECT = _IOWR(0xAA, 0x06, struct uffdio_writeprotect)}, 24 bytes. */
    static final long UFFDIO_WRITEPROTECT = 0xc018aa06L;
    /** {@code UFFDIO_REGISTER_MODE_WP}. */
    static final long UFFDIO_REGISTER_MODE_WP = 1L << 1;
    /** {@code UFFDIO_WRITEPROTECT_MODE_WP}: protect (without it, unprotect). */
    static final long UFFDIO_WRITEPROTECT_MODE_WP = 1L << 0;

    /** The two features this class needs. */
    static final long FEATURES = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED;

    private final int fd;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Userfaultfd(int fd) {
        this.fd = fd;
    }

    /**
     * Opens a userfaultfd and enables asynchronous write protection on it.
     *
     * @return the fd's owner
     * @throws NativeIoException if the syscall or the API handshake fails
     * @throws UnsupportedOperationException if the kernel lacks one of the two features
     */
    static Userfaultfd open() throws NativeIoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.allocateErrnoState(arena);
            int fd = openFd(state);
            boolean success = false;
            try {
                // struct uffdio_api { __u64 api; __u64 features; __u64 ioctls; }
                MemorySegment api = arena.allocate(24, 8);
                api.set(ValueLayout.JAVA_LONG, 0, UFFD_API);
                api.set(ValueLayout.JAVA_LONG, 8, FEATURES);
                if (Libc.ioctl(state, fd, UFFDIO_API, api) != 0) {
                    int errno = Libc.errno(state);
                    if (errno == Errno.EINVAL) {
                        // The handshake refuses unknown feature bits with EINVAL: ask again for nothing to learn which.
                        throw new UnsupportedOperationException(missingFeatures());
                    }
                    throw new NativeIoException("ioctl(UFFDIO_API)", errno);
                }
                success = true;
                return new Userfaultfd(fd);
            } finally {
                if (!success) {
                    Libc.close(state, fd);
                }
            }
        }
    }

    private static int openFd(MemorySegment state) throws NativeIoException {
        long fd = Libc.syscall(state, SYS_USERFAULTFD,
                Libc.O_CLOEXEC | Libc.O_NONBLOCK | UFFD_USER_MODE_ONLY);
        if (fd < 0) {
            throw new NativeIoException("userfaultfd", Libc.errno(state));
        }
        return (int) fd;
    }

    /** Which of {@link #FEATURES} the kernel lacks, from a handshake that asks for none. */
    private static String missingFeatures() throws NativeIoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.allocateErrnoState(arena);
            int fd = openFd(state);
            try {
                MemorySegment api = arena.allocate(24, 8);
                api.set(ValueLayout.JAVA_LONG, 0, UFFD_API);
                if (Libc.ioctl(state, fd, UFFDIO_API, api) != 0) {
                    throw new NativeIoException("ioctl(UFFDIO_API)", Libc.errno(state));
                }
                long offered = api.get(ValueLayout.JAVA_LONG, 8);
                StringBuilder missing = new StringBuilder();
                if ((offered & UFFD_FEATURE_WP_ASYNC) == 0) {
                    missing.append("UFFD_FEATURE_WP_ASYNC (Linux 6.7)");
                }
                if ((offered & UFFD_FEATURE_WP_UNPOPULATED) == 0) {
                    missing.append(missing.isEmpty() ? "" : " and ").append("UFFD_FEATURE_WP_UNPOPULATED (Linux 6.4)");
                }
                return (missing.isEmpty() ? "the kernel refused UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED"
                        : "no " + missing) + " in kernel " + kernelRelease();
            } finally {
                Libc.close(state, fd);
            }
        }
    }

    /**
     * Registers a range for write-protect tracking ({@code UFFDIO_REGISTER} with {@code UFFDIO_REGISTER_MODE_WP}).
     * The range must be page-aligned and lie in anonymous private, shmem or hugetlbfs mappings.
     *
     * @param address start
     * @param length bytes
     * @throws NativeIoException if the kernel refuses ({@code EINVAL} for a file mapping on a disk file system)
     */
    void register(long address, long length) throws NativeIoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.allocateErrnoState(arena);
            // struct uffdio_register { struct uffdio_range { __u64 start; __u64 len; } range; __u64 mode; __u64 ioctls; }
            MemorySegment register = arena.allocate(32, 8);
            register.set(ValueLayout.JAVA_LONG, 0, address);
            register.set(ValueLayout.JAVA_LONG, 8, length);
            register.set(ValueLayout.JAVA_LONG, 16, UFFDIO_REGISTER_MODE_WP);
            if (Libc.ioctl(state, fd, UFFDIO_REGISTER, register) != 0) {
                throw new NativeIoException("ioctl(UFFDIO_REGISTER)", Libc.errno(state));
            }
        }
    }

    /**
     * Write-protects a registered range ({@code UFFDIO_WRITEPROTECT} with {@code UFFDIO_WRITEPROTECT_MODE_WP}):
     * every page of it reads as not written until the next write to it.
     *
     * @param address start
     * @param length bytes
     * @throws NativeIoException if the kernel refuses
     */
    void writeProtect(long address, long length) throws NativeIoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.allocateErrnoState(arena);
            // struct uffdio_writeprotect { struct uffdio_range range; __u64 mode; }
            MemorySegment protect = arena.allocate(24, 8);
            protect.set(ValueLayout.JAVA_LONG, 0, address);
            protect.set(ValueLayout.JAVA_LONG, 8, length);
            protect.set(ValueLayout.JAVA_LONG, 16, UFFDIO_WRITEPROTECT_MODE_WP);
            while (Libc.ioctl(state, fd, UFFDIO_WRITEPROTECT, protect) != 0) {
                int errno = Libc.errno(state);
                // EAGAIN: the mm changed under the walk (a concurrent mremap or fork); the kernel asks for a retry.
                if (errno != Errno.EAGAIN && errno != Errno.EINTR) {
                    throw new NativeIoException("ioctl(UFFDIO_WRITEPROTECT)", errno);
                }
            }
        }
    }

    /** Closes the fd, which unregisters its ranges (idempotent). */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment state = Libc.allocateErrnoState(arena);
                if (Libc.close(state, fd) != 0) {
                    System.getLogger(Userfaultfd.class.getName()).log(System.Logger.Level.WARNING,
                            "closing userfaultfd " + fd + " failed",
                            new NativeIoException("close", Libc.errno(state)));
                }
            }
        }
    }

    static String kernelRelease() {
        return System.getProperty("os.version", "unknown");
    }

    private static boolean isAarch64() {
        return System.getProperty("os.arch", "").toLowerCase(Locale.ROOT).equals("aarch64");
    }
}
