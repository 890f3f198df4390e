package io.livemig.transport.rdma.verbs.rdmacore;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.livemig.transport.rdma.unix.Native;
import io.livemig.transport.rdma.unix.NativeIoException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The verbs provider's availability gate, probed once when the class initialises (the pattern of Netty's
 * {@code Epoll}): the libc bindings, {@code libibverbs.so.1}, {@code librdmacm.so.1}, at least one RDMA device
 * seen by both, and a memlock limit that lets the control buffers be pinned. The cause names exactly the first
 * thing missing, so {@code --provider verbs} fails fast with an actionable message.
 */
final class Availability {

    /** The least pinnable memory worth starting with: QEMU's three 512 KiB control buffers per side, twice. */
    static final long MIN_MEMLOCK = 4L << 20;

    private static final Throwable CAUSE = probe();

    private Availability() {
    }

    /**
     * Why the provider cannot run here.
     *
     * @return the cause, {@code null} when available
     */
    static Throwable cause() {
        return CAUSE;
    }

    private static Throwable probe() {
        if (!Native.isAvailable()) {
            return new UnsupportedOperationException("libc bindings unavailable: "
                    + Native.unavailabilityCause().getMessage(), Native.unavailabilityCause());
        }
        Throwable missing = loadLibrary(Ibv.class, Ibv.LIBRARY, "libibverbs1");
        if (missing == null) {
            missing = loadLibrary(Cm.class, Cm.LIBRARY, "librdmacm1");
        }
        if (missing != null) {
            return missing;
        }
        try {
            int verbsDevices = countVerbsDevices();
            if (verbsDevices == 0) {
                return new UnsupportedOperationException("no RDMA device: ibv_get_device_list found none (load a "
                        + "driver, or create a Soft-RoCE link: modprobe rdma_rxe; rdma link add rxe0 type rxe netdev "
                        + "eth0; ibverbs-providers must be installed)");
            }
            int cmDevices = countCmDevices();
            if (cmDevices == 0) {
                return new UnsupportedOperationException("no RDMA device usable by rdma_cm: rdma_get_devices found "
                        + "none of the " + verbsDevices + " verbs devices (modprobe rdma_ucm)");
            }
            long soft = Memlock.raiseSoftLimit();
            if (soft != Memlock.RLIM_INFINITY && soft < MIN_MEMLOCK && !Memlock.hasIpcLock()) {
                return new UnsupportedOperationException("memlock limit too low: RLIMIT_MEMLOCK is " + soft
                        + " bytes, the control buffers alone need " + MIN_MEMLOCK + "; raise ulimit -l");
            }
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    private static Throwable loadLibrary(Class<?> bindings, String soname, String debianPackage) {
        try {
            Class.forName(bindings.getName(), true, Availability.class.getClassLoader());
            return null;
        } catch (ExceptionInInitializerError e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            return new UnsatisfiedLinkError("library missing: " + soname + " cannot be loaded (install the "
                    + debianPackage + " package): " + cause.getMessage());
        } catch (ReflectiveOperationException | LinkageError e) {
            return new UnsatisfiedLinkError("library missing: " + soname + " (" + e + ")");
        }
    }

    /** {@code ibv_get_device_list}: NULL with errno ENOSYS when the kernel has no uverbs support at all. */
    private static int countVerbsDevices() throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Errors.allocateErrnoState(arena);
            MemorySegment count = arena.allocate(JAVA_INT);
            MemorySegment list = (MemorySegment) Ibv.GET_DEVICE_LIST.invokeExact(state, count);
            if (list.equals(MemorySegment.NULL)) {
                int errno = Errors.errno(state);
                throw new UnsupportedOperationException("no RDMA device: "
                        + new NativeIoException("ibv_get_device_list", errno).getMessage()
                        + " (the kernel has no RDMA support loaded: ib_uverbs)");
            }
            Ibv.FREE_DEVICE_LIST.invokeExact(list);
            return count.get(JAVA_INT, 0);
        }
    }

    /** {@code rdma_get_devices}: the contexts librdmacm opened; the same that rdma_cm ids are bound to. */
    private static int countCmDevices() throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Errors.allocateErrnoState(arena);
            MemorySegment count = arena.allocate(JAVA_INT);
            MemorySegment list = (MemorySegment) Cm.GET_DEVICES.invokeExact(state, count);
            if (list.equals(MemorySegment.NULL)) {
                return 0;
            }
            Cm.FREE_DEVICES.invokeExact(list);
            return count.get(JAVA_INT, 0);
        }
    }
}
