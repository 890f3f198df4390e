package io.livemig.transport.rdma.channel;

import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import io.livemig.transport.rdma.verbs.ProtectionDomain;
import io.livemig.transport.rdma.verbs.ScatterGatherElement;
import io.livemig.transport.rdma.verbs.VerbsException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Equal-sized slots in one page-aligned, registered allocation: the send ring a SEND is copied into, or the receive
 * ring receives land in. Registered once, reused for the life of the connection.
 * <p>The memory lives in a shared arena and is freed only when the ring is closed and the last buffer handed to the
 * application over one of its slots has been released: a buffer read after its channel closed then reads valid
 * memory, and a buffer leaked by the application keeps its ring alive instead of pointing at freed memory.
 */
final class SlotRing implements AutoCloseable {

    private final Arena arena;
    private final MemorySegment memory;
    private final MemoryRegion region;
    /** One for the ring itself until {@link #close()}, plus one per slot buffer the application holds. */
    private final AtomicInteger holds = new AtomicInteger(1);
    private final AtomicBoolean closed = new AtomicBoolean();
    private final int slotSize;
    private final int count;

    private SlotRing(Arena arena, MemorySegment memory, MemoryRegion region, int slotSize, int count) {
        this.arena = arena;
        this.memory = memory;
        this.region = region;
        this.slotSize = slotSize;
        this.count = count;
    }

    /** Maps and registers {@code count} slots, all or nothing. */
    static SlotRing register(ProtectionDomain pd, int count, int slotSize, Set<AccessFlag> access)
            throws VerbsException {
        if (count > WorkRequestId.MAX_INDEX) {
            throw new IllegalArgumentException("too many slots: " + count);
        }
        Arena arena = Arena.ofShared();
        boolean success = false;
        try {
            MemorySegment memory = arena.allocate((long) count * slotSize, 4096);
            SlotRing ring = new SlotRing(arena, memory, pd.register(memory, access), slotSize, count);
            success = true;
            return ring;
        } finally {
            if (!success) {
                arena.close();
            }
        }
    }

    int slotSize() {
        return slotSize;
    }

    int count() {
        return count;
    }

    MemorySegment slot(int index) {
        return memory.asSlice((long) index * slotSize, slotSize);
    }

    ByteBuffer buffer(int index, int length) {
        return memory.asSlice((long) index * slotSize, length).asByteBuffer();
    }

    ScatterGatherElement sge(int index, int length) {
        return ScatterGatherElement.of(region, (long) index * slotSize, length);
    }

    /** Takes a hold for a slot buffer handed to the application. */
    void retainHold() {
        holds.incrementAndGet();
    }

    /** Drops a hold; the last one frees the memory. */
    void releaseHold() {
        if (holds.decrementAndGet() == 0) {
            arena.close();
        }
    }

    /** Deregisters now (the provider never touches the memory again), frees once no slot buffer is held. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            region.deregister();
            releaseHold();
        }
    }
}
