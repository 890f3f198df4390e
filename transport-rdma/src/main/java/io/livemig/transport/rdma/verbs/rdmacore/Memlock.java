package io.livemig.transport.rdma.verbs.rdmacore;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.livemig.transport.rdma.verbs.VerbsException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code RLIMIT_MEMLOCK}, which bounds how much memory an unprivileged process may pin: every {@code ibv_reg_mr}
 * pins its pages (the kernel charges them to {@code pinned_vm} against this limit unless the process has
 * {@code CAP_IPC_LOCK}, see {@code man ibv_reg_mr} and {@code man 2 setrlimit}). A registration over the limit
 * fails with a bare ENOMEM; this class turns that into "cannot pin N bytes: RLIMIT_MEMLOCK is M; raise ulimit -l".
 */
final class Memlock {

    /** {@code RLIMIT_MEMLOCK} on Linux (x86-64 and aarch64, asm-generic/resource.h). */
    static final int RLIMIT_MEMLOCK = 8;
    /** {@code RLIM_INFINITY}: all bits set. */
    static final long RLIM_INFINITY = -1L;
    /** {@code CAP_IPC_LOCK}, bit 14 of the capability sets (linux/capability.h). */
    static final int CAP_IPC_LOCK = 14;

    /** {@code struct rlimit { rlim_t rlim_cur; rlim_t rlim_max; }}. */
    static final StructLayout RLIMIT = MemoryLayout.structLayout(
            JAVA_LONG.withName("rlim_cur"), JAVA_LONG.withName("rlim_max")).withName("rlimit");
    private static final VarHandle RLIM_CUR = RLIMIT.varHandle(groupElement("rlim_cur"));
    private static final VarHandle RLIM_MAX = RLIMIT.varHandle(groupElement("rlim_max"));

    // int getrlimit(int resource, struct rlimit *rlim); int setrlimit(int resource, const struct rlimit *rlim)
    private static final MethodHandle GETRLIMIT = Errors.bind(Linker.nativeLinker().defaultLookup(), "getrlimit",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle SETRLIMIT = Errors.bind(Linker.nativeLinker().defaultLookup(), "setrlimit",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));

    private Memlock() {
    }

    /**
     * The soft and hard limit.
     *
     * @return {@code {soft, hard}} in bytes, {@link #RLIM_INFINITY} for unlimited
     * @throws VerbsException when getrlimit fails
     */
    static long[] limits() throws VerbsException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Errors.allocateErrnoState(arena);
            MemorySegment rlimit = arena.allocate(RLIMIT);
            if ((int) GETRLIMIT.invokeExact(state, RLIMIT_MEMLOCK, rlimit) != 0) {
                throw Errors.failure("getrlimit", Errors.errno(state));
            }
            return new long[] {(long) RLIM_CUR.get(rlimit, 0L), (long) RLIM_MAX.get(rlimit, 0L)};
        } catch (VerbsException e) {
            throw e;
        } catch (Throwable t) {
            throw Errors.unexpected(t);
        }
    }

    /**
     * Raises the soft limit to the hard limit, which an unprivileged process may do ({@code man 2 setrlimit}), so a
     * distribution default of 8 MiB does not stop a large registration when the administrator allowed more.
     *
     * @return the soft limit now in force
     * @throws VerbsException when getrlimit or setrlimit fails
     */
    static long raiseSoftLimit() throws VerbsException {
        long[] limits = limits();
        if (limits[0] == limits[1]) {
            return limits[0];
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Errors.allocateErrnoState(arena);
            MemorySegment rlimit = arena.allocate(RLIMIT);
            RLIM_CUR.set(rlimit, 0L, limits[1]);
            RLIM_MAX.set(rlimit, 0L, limits[1]);
            if ((int) SETRLIMIT.invokeExact(state, RLIMIT_MEMLOCK, rlimit) != 0) {
                throw Errors.failure("setrlimit", Errors.errno(state));
            }
            return limits[1];
        } catch (VerbsException e) {
            throw e;
        } catch (Throwable t) {
            throw Errors.unexpected(t);
        }
    }

    /**
     * Whether pinning ignores the limit: the process has {@code CAP_IPC_LOCK} in its effective set (root has it).
     *
     * @return {@code true} when the limit does not apply
     */
    static boolean hasIpcLock() {
        String capEff = statusField("CapEff:");
        return capEff != null && (Long.parseUnsignedLong(capEff, 16) & (1L << CAP_IPC_LOCK)) != 0;
    }

    /**
     * The memory this process has pinned ({@code VmPin} of {@code /proc/self/status}).
     *
     * @return bytes, 0 when unknown
     */
    static long pinnedBytes() {
        String vmPin = statusField("VmPin:");
        return vmPin == null ? 0 : Long.parseLong(vmPin.replace("kB", "").trim()) * 1024;
    }

    /**
     * Checks that {@code length} more bytes can be pinned.
     *
     * @param length the bytes about to be registered
     * @throws VerbsException "cannot pin N bytes: RLIMIT_MEMLOCK is M; raise ulimit -l" when they cannot
     */
    static void checkCanPin(long length) throws VerbsException {
        long soft = limits()[0];
        if (soft == RLIM_INFINITY || hasIpcLock()) {
            return;
        }
        if (pinnedBytes() + length > soft) {
            throw cannotPin(length, soft);
        }
    }

    /**
     * The error for a registration the limit refuses.
     *
     * @param length the bytes that could not be pinned
     * @param soft the soft limit
     * @return the exception
     */
    static VerbsException cannotPin(long length, long soft) {
        return new VerbsException("cannot pin " + length + " bytes: RLIMIT_MEMLOCK is " + soft
                + "; raise ulimit -l (" + pinnedBytes() + " bytes are pinned already)");
    }

    private static String statusField(String name) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(name)) {
                    return line.substring(name.length()).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return null;
    }
}
