package io.livemig.migration.ram;

import io.livemig.transport.rdma.unix.AnonymousMemory;
import io.livemig.transport.rdma.unix.Errno;
import io.livemig.transport.rdma.unix.NativeIoException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Which {@link DirtyTrackingMode}s work in this process, and the factory of {@link DirtyTracker}s: the availability
 * gate, as Netty's {@code Epoll}. Each kernel mode is probed once, the first time it is asked about, by doing what
 * the mode does on a scratch mapping (arm, write one page, harvest, expect exactly that page); the outcome and,
 * when it failed, its cause are cached for the life of the JVM.
 *
 * <p>The soft-dirty probe writes {@code /proc/self/clear_refs}, which clears every soft-dirty bit of the process:
 * it runs only when soft-dirty is asked about (never when {@link DirtyTrackingMode#AUTO} finds uffd-wp).
 */
public final class DirtyTracking {

    private DirtyTracking() {
    }

    private static final System.Logger LOG = System.getLogger(DirtyTracking.class.getName());
    /** Why {@link DirtyTrackingMode#AUTO} passes over soft-dirty for pinned memory (see {@link #open}). */
    static final String PINNED = "passed over (RDMA registration pins the RAM, and the kernel never clears a pinned "
            + "page's soft-dirty bit)";

    /** uffd-wp's probe, run when this holder initialises. */
    private static final class UffdWp {
        static final String CAUSE = probeUffdWp();
    }

    /** soft-dirty's probe, run when this holder initialises. */
    private static final class SoftDirty {
        static final String CAUSE = probeSoftDirty();
    }

    /**
     * Whether a mode works here.
     *
     * @param mode any mode; {@link DirtyTrackingMode#AUTO} and {@link DirtyTrackingMode#EXPLICIT} always do
     * @return true when available
     */
    public static boolean isAvailable(DirtyTrackingMode mode) {
        return unavailabilityCause(mode).isEmpty();
    }

    /**
     * Why a mode does not work here, for example
     * {@code "userfaultfd: PAGEMAP_SCAN not supported (ENOTTY, kernel 6.1.0)"}.
     *
     * @param mode any mode
     * @return the cached cause, empty when available
     */
    public static Optional<String> unavailabilityCause(DirtyTrackingMode mode) {
        return Optional.ofNullable(switch (mode) {
            case UFFD_WP -> UffdWp.CAUSE;
            case SOFT_DIRTY -> SoftDirty.CAUSE;
            case AUTO, EXPLICIT -> null;
        });
    }

    /**
     * Fails unless a mode works here.
     *
     * @param mode any mode
     * @throws UnsupportedOperationException {@code "dirty tracking mode MODE is unavailable: CAUSE"}
     */
    public static void ensureAvailability(DirtyTrackingMode mode) {
        Optional<String> cause = unavailabilityCause(mode);
        if (cause.isPresent()) {
            throw new UnsupportedOperationException("dirty tracking mode " + mode + " is unavailable: " + cause.get());
        }
    }

    /**
     * The mode {@link DirtyTrackingMode#AUTO} picks here, unless a block's memory refuses it.
     *
     * @return the first available of uffd-wp, soft-dirty, explicit
     */
    public static DirtyTrackingMode best() {
        if (isAvailable(DirtyTrackingMode.UFFD_WP)) {
            return DirtyTrackingMode.UFFD_WP;
        }
        return isAvailable(DirtyTrackingMode.SOFT_DIRTY) ? DirtyTrackingMode.SOFT_DIRTY : DirtyTrackingMode.EXPLICIT;
    }

    /**
     * Makes the tracker of a set of blocks; it tracks nothing until {@link DirtyTracker#start()}. With
     * {@link DirtyTrackingMode#AUTO}, a mode that is available but refuses a block (uffd-wp on a file mapping of a
     * disk file system) is passed over like an unavailable one; the tracker's {@link DirtyTracker#reason()} says so.
     *
     * @param requested the mode asked for
     * @param blocks the blocks to track; the caller keeps them open longer than the tracker
     * @return the tracker, owned by the caller
     * @throws UnsupportedOperationException if a mode other than auto was asked for and is unavailable
     * @throws UncheckedIOException if a requested kernel mode refuses the blocks
     */
    public static DirtyTracker open(DirtyTrackingMode requested, RamBlocks blocks) {
        return open(requested, blocks, false);
    }

    /**
     * As {@link #open(DirtyTrackingMode, RamBlocks)}, for blocks whose pages RDMA registration pins
     * ({@code pinned}): {@link DirtyTrackingMode#AUTO} then passes over soft-dirty, and a requested soft-dirty is
     * opened with a warning. Linux never clears the soft-dirty bit of a page pinned for DMA in a private mapping
     * ({@code clear_soft_dirty} in fs/proc/task_mmu.c skips it: the device may write it at any time), so every
     * registered page would read written, and be sent, every round: measured in the rxe lab, a 19 MiB migration
     * over the verbs provider sent 1.47 GB in 74 rounds. uffd-wp has no such exception.
     *
     * @param requested the mode asked for
     * @param blocks the blocks to track; the caller keeps them open longer than the tracker
     * @param pinned whether the migration's registrations pin the blocks' pages
     * @return the tracker, owned by the caller
     * @throws UnsupportedOperationException if a mode other than auto was asked for and is unavailable
     * @throws UncheckedIOException if a requested kernel mode refuses the blocks
     */
    public static DirtyTracker open(DirtyTrackingMode requested, RamBlocks blocks, boolean pinned) {
        if (requested == DirtyTrackingMode.SOFT_DIRTY && pinned) {
            LOG.log(System.Logger.Level.WARNING, "dirty tracking mode soft-dirty was requested, but RDMA registration "
                    + "pins the RAM, and the kernel keeps a pinned page soft-dirty: every registered page is sent "
                    + "every round; uffd-wp or explicit marks do not have this problem");
        }
        if (requested != DirtyTrackingMode.AUTO) {
            ensureAvailability(requested);
            try {
                return open(requested, blocks, "requested");
            } catch (IOException e) {
                throw new UncheckedIOException("dirty tracking mode " + requested + ": " + e.getMessage(), e);
            }
        }
        List<String> passedOver = new ArrayList<>();
        for (DirtyTrackingMode mode : List.of(DirtyTrackingMode.UFFD_WP, DirtyTrackingMode.SOFT_DIRTY)) {
            Optional<String> passOver = passOver(mode, pinned);
            if (passOver.isPresent()) {
                passedOver.add(passOver.get());
                continue;
            }
            try {
                return open(mode, blocks, autoReason(passedOver));
            } catch (IOException e) {
                passedOver.add(mode + " refused (" + e.getMessage() + ")");
            }
        }
        return new ExplicitDirtyTracker(blocks, autoReason(passedOver));
    }

    /**
     * What {@link #open} will report for a requested mode, as far as the gate knows (a block that refuses a mode
     * is only found by opening): for a command line to print before it allocates anything.
     *
     * @param requested the mode asked for
     * @return for example {@code "dirty tracking: uffd-wp (auto: available)"}
     * @throws UnsupportedOperationException if a mode other than auto was asked for and is unavailable
     */
    public static String plan(DirtyTrackingMode requested) {
        return plan(requested, false);
    }

    /**
     * As {@link #plan(DirtyTrackingMode)}, for RAM that RDMA registration will pin (see
     * {@link #open(DirtyTrackingMode, RamBlocks, boolean)}).
     *
     * @param requested the mode asked for
     * @param pinned whether the provider's registrations pin the pages
     * @return the line {@link #open} will report, as far as the gate knows
     * @throws UnsupportedOperationException if a mode other than auto was asked for and is unavailable
     */
    public static String plan(DirtyTrackingMode requested, boolean pinned) {
        if (requested != DirtyTrackingMode.AUTO) {
            ensureAvailability(requested);
            return "dirty tracking: " + requested + " (requested)";
        }
        List<String> passedOver = new ArrayList<>();
        for (DirtyTrackingMode mode : List.of(DirtyTrackingMode.UFFD_WP, DirtyTrackingMode.SOFT_DIRTY)) {
            Optional<String> passOver = passOver(mode, pinned);
            if (passOver.isEmpty()) {
                return "dirty tracking: " + mode + " (" + autoReason(passedOver) + ")";
            }
            passedOver.add(passOver.get());
        }
        return "dirty tracking: " + DirtyTrackingMode.EXPLICIT + " (" + autoReason(passedOver) + ")";
    }

    /** Why auto passes over a kernel mode before trying it ("MODE unavailable (CAUSE)"), or empty to try it. */
    private static Optional<String> passOver(DirtyTrackingMode mode, boolean pinned) {
        Optional<String> cause = unavailabilityCause(mode);
        if (cause.isPresent()) {
            return Optional.of(mode + " unavailable (" + cause.get() + ")");
        }
        return mode == DirtyTrackingMode.SOFT_DIRTY && pinned ? Optional.of(mode + " " + PINNED) : Optional.empty();
    }

    private static String autoReason(List<String> passedOver) {
        return passedOver.isEmpty() ? "auto: available" : "auto: " + String.join("; ", passedOver);
    }

    private static DirtyTracker open(DirtyTrackingMode mode, RamBlocks blocks, String reason) throws IOException {
        return switch (mode) {
            case UFFD_WP -> UffdWpDirtyTracker.open(blocks, reason);
            case SOFT_DIRTY -> new SoftDirtyTracker(blocks, reason);
            case EXPLICIT -> new ExplicitDirtyTracker(blocks, reason);
            case AUTO -> throw new IllegalArgumentException("auto is resolved by the caller");
        };
    }

    /**
     * One line for logs and status: the mode and why.
     *
     * @param tracker an open tracker
     * @return for example {@code "dirty tracking: uffd-wp (auto: available)"}
     */
    public static String describe(DirtyTracker tracker) {
        return "dirty tracking: " + tracker.mode() + " (" + tracker.reason() + ")";
    }

    private static String platformCause() {
        String os = System.getProperty("os.name", "");
        String arch = System.getProperty("os.arch", "");
        if (!os.toLowerCase(Locale.ROOT).startsWith("linux")) {
            return "not Linux: " + os;
        }
        if (!(arch.equals("amd64") || arch.equals("x86_64") || arch.equals("aarch64"))) {
            return "unsupported architecture: " + arch;
        }
        return null;
    }

    private static String probeUffdWp() {
        String platform = platformCause();
        if (platform != null) {
            return "userfaultfd: " + platform;
        }
        String kernel = Userfaultfd.kernelRelease();
        long page = RamBlock.PAGE_SIZE;
        try (AnonymousMemory scratch = AnonymousMemory.map(2 * page);
                Userfaultfd uffd = openUffd(kernel);
                Pagemap pagemap = Pagemap.open()) {
            long base = scratch.segment().address();
            uffd.register(base, 2 * page);
            uffd.writeProtect(base, 2 * page);
            scratch.segment().set(ValueLayout.JAVA_BYTE, page, (byte) 1);
            List<Long> written = new ArrayList<>();
            try {
                pagemap.scanWritten(base, base + 2 * page, true, (start, end) -> {
                    written.add((start - base) / page);
                    written.add((end - base) / page);
                });
            } catch (NativeIoException e) {
                if (e.errno() == Errno.EINVAL || e.errno() == Errno.ENOTTY) {
                    return "userfaultfd: PAGEMAP_SCAN not supported (" + Errno.name(e.errno()) + ", kernel " + kernel
                            + "; needs Linux 6.7)";
                }
                throw e;
            }
            if (!written.equals(List.of(1L, 2L))) {
                return "userfaultfd: a write to page 1 of 2 was reported as page runs " + written;
            }
            written.clear();
            pagemap.scanWritten(base, base + 2 * page, false, (start, end) -> written.add(start));
            if (!written.isEmpty()) {
                return "userfaultfd: PAGEMAP_SCAN did not write-protect the page it reported";
            }
            return null;
        } catch (UnsupportedOperationException e) {
            return e.getMessage();
        } catch (NativeIoException e) {
            return "userfaultfd: " + e.getMessage() + " (kernel " + kernel + ")";
        } catch (Throwable t) {
            // The downcalls may be refused (--enable-native-access not given) or fail to link.
            return "userfaultfd: " + t;
        }
    }

    private static Userfaultfd openUffd(String kernel) throws NativeIoException {
        try {
            return Userfaultfd.open();
        } catch (NativeIoException e) {
            String why = switch (e.errno()) {
                case Errno.ENOSYS -> "the syscall does not exist (kernel " + kernel + " without CONFIG_USERFAULTFD, "
                        + "or a seccomp filter that answers ENOSYS)";
                case Errno.EPERM -> "not permitted (a seccomp filter such as a container runtime's default profile, "
                        + "or an LSM policy; UFFD_USER_MODE_ONLY needs no privilege)";
                default -> e.getMessage();
            };
            throw new UnsupportedOperationException("userfaultfd: " + why);
        } catch (UnsupportedOperationException e) {
            throw new UnsupportedOperationException("userfaultfd: " + e.getMessage());
        }
    }

    private static String probeSoftDirty() {
        String platform = platformCause();
        if (platform != null) {
            return "soft-dirty: " + platform;
        }
        String kernel = Userfaultfd.kernelRelease();
        try (AnonymousMemory scratch = AnonymousMemory.map(RamBlock.PAGE_SIZE);
                FileChannel pagemap = FileChannel.open(SoftDirtyTracker.PAGEMAP, StandardOpenOption.READ)) {
            MemorySegment page = scratch.segment();
            page.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
            try {
                SoftDirtyTracker.clearRefs();
            } catch (UncheckedIOException e) {
                return "soft-dirty: writing 4 to " + SoftDirtyTracker.CLEAR_REFS + " failed: " + e.getCause();
            }
            if (softDirty(pagemap, page.address())) {
                return "soft-dirty: clear_refs did not clear bit 55 of pagemap (kernel " + kernel + ")";
            }
            page.set(ValueLayout.JAVA_BYTE, 0, (byte) 2);
            if (!softDirty(pagemap, page.address())) {
                return "soft-dirty: pagemap bit 55 stays clear after a write (kernel " + kernel
                        + " built without CONFIG_MEM_SOFT_DIRTY)";
            }
            return null;
        } catch (Throwable t) {
            return "soft-dirty: " + t;
        }
    }

    private static boolean softDirty(FileChannel pagemap, long address) throws IOException {
        ByteBuffer entry = ByteBuffer.allocate(Long.BYTES).order(ByteOrder.nativeOrder());
        long position = address / RamBlock.PAGE_SIZE * Long.BYTES;
        while (entry.hasRemaining()) {
            if (pagemap.read(entry, position + entry.position()) < 0) {
                throw new IOException("short read of " + SoftDirtyTracker.PAGEMAP);
            }
        }
        return (entry.getLong(0) & SoftDirtyTracker.PM_SOFT_DIRTY) != 0;
    }
}
