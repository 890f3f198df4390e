package io.livemig.transport.rdma.unix;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A reusable native array of {@code struct epoll_event}, filled by {@link Epoll#wait}.
 *
 * <p>The struct is {@code { uint32_t events; epoll_data_t data; }} with a 64-bit {@code data}. The kernel and glibc
 * declare it packed on x86-64 only (12 bytes, {@code data} at offset 4, so 32-bit and 64-bit x86 share one ABI);
 * every other architecture, aarch64 among them, aligns it naturally (16 bytes, {@code data} at offset 8).
 *
 * <p>Owned by the thread that waits: it is allocated once and reused for every wait, and closed by its owner after
 * the last wait has returned (closing it while a wait is using it fails with {@link IllegalStateException}).
 */
public final class EpollEventArray implements AutoCloseable {

    /** The layout of one {@code struct epoll_event} on this architecture. */
    static final StructLayout EPOLL_EVENT = isX86_64(System.getProperty("os.arch", ""))
            ? MemoryLayout.structLayout(
                    JAVA_INT.withName("events"),
                    // Packed: the 8-byte data sits at offset 4, so it may only be assumed 4-byte aligned.
                    JAVA_LONG.withByteAlignment(4).withName("data"))
            : MemoryLayout.structLayout(
                    JAVA_INT.withName("events"),
                    MemoryLayout.paddingLayout(4),
                    JAVA_LONG.withName("data"));

    // Coordinates: (MemorySegment array, long baseOffset, long index).
    private static final VarHandle EVENTS = EPOLL_EVENT.arrayElementVarHandle(groupElement("events"));
    private static final VarHandle DATA = EPOLL_EVENT.arrayElementVarHandle(groupElement("data"));

    private final int capacity;
    private final Arena arena;
    private final MemorySegment segment;
    private final AtomicBoolean closed = new AtomicBoolean();

    /**
     * Allocates an array of {@code capacity} zeroed events.
     *
     * @param capacity the most events one {@link Epoll#wait} can return; positive
     * @throws IllegalArgumentException if {@code capacity} is not positive
     */
    public EpollEventArray(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        this.capacity = capacity;
        // Shared: event loops commonly build their arrays on one thread and wait on another.
        this.arena = Arena.ofShared();
        this.segment = arena.allocate(EPOLL_EVENT, capacity);
    }

    /** Whether {@code os.arch} names x86-64 (HotSpot says "amd64" on Linux, other JVMs "x86_64"). */
    static boolean isX86_64(String arch) {
        return arch.equals("amd64") || arch.equals("x86_64");
    }

    /**
     * How many events this array holds.
     *
     * @return the capacity given at construction
     */
    public int capacity() {
        return capacity;
    }

    /**
     * The ready events of entry {@code index}, as filled by the last {@link Epoll#wait}.
     *
     * @param index from 0 to the count that wait returned, exclusive
     * @return a bit set of {@link Epoll#EPOLLIN}, {@link Epoll#EPOLLOUT}, {@link Epoll#EPOLLERR} and so on
     * @throws IndexOutOfBoundsException if {@code index} is outside the array
     */
    public int events(int index) {
        return (int) EVENTS.get(segment, 0L, (long) Objects.checkIndex(index, capacity));
    }

    /**
     * The user data of entry {@code index}: the value given to {@link Epoll#add} or {@link Epoll#modify}.
     *
     * @param index from 0 to the count that wait returned, exclusive
     * @return the registered data
     * @throws IndexOutOfBoundsException if {@code index} is outside the array
     */
    public long data(int index) {
        return (long) DATA.get(segment, 0L, (long) Objects.checkIndex(index, capacity));
    }

    /** The native memory, for {@code epoll_wait}. */
    MemorySegment segment() {
        return segment;
    }

    /** Writes one event into entry 0 of {@code target}, for {@code epoll_ctl}. */
    static void set(MemorySegment target, int events, long data) {
        EVENTS.set(target, 0L, 0L, events);
        DATA.set(target, 0L, 0L, data);
    }

    /** Frees the native memory; idempotent. Call after the last {@link Epoll#wait} that uses this array. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            arena.close();
        }
    }
}
