package io.livemig.transport.rdma.unix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;

/**
 * Whether this package's libc bindings work in this JVM: probed once, when the class initialises.
 *
 * <p>The probe checks the operating system and architecture (the struct layouts and flag values of this package
 * are those of Linux on x86-64 and aarch64), links every libc symbol, and then creates and closes an eventfd and
 * an epoll instance, so a JVM or sandbox that forbids them ({@code --illegal-native-access=deny}, a seccomp filter)
 * is found here rather than on the first wakeup. Callers either branch on {@link #isAvailable()} or call
 * {@link #ensureAvailability()}, which {@link EventFd#open()} and {@link Epoll#open()} do for them.
 */
public final class Native {

    private static final Throwable UNAVAILABILITY_CAUSE = probe();

    private Native() {
    }

    /**
     * Whether the libc bindings can be used.
     *
     * @return true when the probe succeeded
     */
    public static boolean isAvailable() {
        return UNAVAILABILITY_CAUSE == null;
    }

    /**
     * Why the libc bindings cannot be used.
     *
     * @return the probe's failure, or null when {@link #isAvailable()}
     */
    public static Throwable unavailabilityCause() {
        return UNAVAILABILITY_CAUSE;
    }

    /**
     * Fails unless the libc bindings can be used.
     *
     * @throws UnsatisfiedLinkError with {@link #unavailabilityCause()} as its cause, when they cannot
     */
    public static void ensureAvailability() {
        if (UNAVAILABILITY_CAUSE != null) {
            UnsatisfiedLinkError error = new UnsatisfiedLinkError(
                    "livemig libc bindings unavailable: " + UNAVAILABILITY_CAUSE);
            error.initCause(UNAVAILABILITY_CAUSE);
            throw error;
        }
    }

    private static Throwable probe() {
        String os = System.getProperty("os.name", "");
        if (!os.toLowerCase(Locale.ROOT).startsWith("linux")) {
            return new UnsupportedOperationException("not Linux: " + os);
        }
        String arch = System.getProperty("os.arch", "");
        if (!(EpollEventArray.isX86_64(arch) || arch.equals("aarch64"))) {
            return new UnsupportedOperationException("unsupported architecture: " + arch);
        }
        // Libc is touched directly, never through EventFd or Epoll: those call ensureAvailability(), and calling
        // back into this class while it initialises would see the cause field still null.
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.allocateErrnoState(arena);
            closeProbe(state, "eventfd", Libc.eventfd(state, 0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC));
            closeProbe(state, "epoll_create1", Libc.epollCreate1(state, Libc.EPOLL_CLOEXEC));
            return null;
        } catch (ExceptionInInitializerError e) {
            // Libc failed to link a symbol: report the UnsatisfiedLinkError rather than its wrapper.
            return e.getCause() != null ? e.getCause() : e;
        } catch (Throwable t) {
            return t;
        }
    }

    private static void closeProbe(MemorySegment state, String call, int fd) throws NativeIoException {
        if (fd < 0) {
            throw new NativeIoException(call, Libc.errno(state));
        }
        if (Libc.close(state, fd) < 0) {
            throw new NativeIoException("close", Libc.errno(state));
        }
    }
}
