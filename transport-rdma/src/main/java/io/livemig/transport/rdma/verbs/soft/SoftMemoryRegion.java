package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import java.lang.foreign.MemorySegment;
import java.util.Set;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A soft memory region. Every access by the provider (placing a WRITE, a receive or a READ response, gathering a
 * SEND, WRITE or READ response) happens between {@link #pin()} and {@link #unpin()}, which hold the read side of a
 * lock that {@link #deregister()} takes exclusively: deregistration waits for placements in progress, and no access
 * starts after it, so the provider never writes into memory its owner may already have freed.
 */
final class SoftMemoryRegion implements MemoryRegion {

    private final SoftProtectionDomain pd;
    private final MemorySegment segment;
    private final int lkey;
    private final int rkey;
    private final Set<AccessFlag> access;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    /** Written under the write lock, read under either side. */
    private volatile boolean registered = true;

    SoftMemoryRegion(SoftProtectionDomain pd, MemorySegment segment, int lkey, int rkey, Set<AccessFlag> access) {
        this.pd = pd;
        this.segment = segment;
        this.lkey = lkey;
        this.rkey = rkey;
        this.access = Set.copyOf(access);
    }

    SoftProtectionDomain pd() {
        return pd;
    }

    /**
     * Starts an access.
     *
     * @return {@code true} when the region is registered; the caller must then call {@link #unpin()}
     */
    boolean pin() {
        lock.readLock().lock();
        if (!registered) {
            lock.readLock().unlock();
            return false;
        }
        return true;
    }

    /** Ends an access started by a successful {@link #pin()}. */
    void unpin() {
        lock.readLock().unlock();
    }

    /**
     * Whether {@code [address, address + length)} lies inside the region.
     *
     * @param address the first byte
     * @param length the number of bytes
     * @return {@code true} when it does
     */
    boolean contains(long address, long length) {
        long base = segment.address();
        return length >= 0 && address >= base && length <= segment.byteSize() && address - base <= segment.byteSize() - length;
    }

    /**
     * The part of the region at the given address; the caller checked {@link #contains}.
     *
     * @param address the first byte
     * @param length the number of bytes
     * @return the slice
     */
    MemorySegment slice(long address, long length) {
        return segment.asSlice(address - segment.address(), length);
    }

    @Override
    public long address() {
        return segment.address();
    }

    @Override
    public long length() {
        return segment.byteSize();
    }

    @Override
    public int lkey() {
        return lkey;
    }

    @Override
    public int rkey() {
        return rkey;
    }

    @Override
    public Set<AccessFlag> access() {
        return access;
    }

    @Override
    public MemorySegment segment() {
        return segment;
    }

    @Override
    public boolean isRegistered() {
        return registered;
    }

    @Override
    public void deregister() {
        if (!registered) {
            return;
        }
        // Remove the keys first so no new lookup finds the region, then wait for accesses in progress.
        pd.forget(this);
        lock.writeLock().lock();
        try {
            registered = false;
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public String toString() {
        return "SoftMemoryRegion[address=0x" + Long.toHexString(address()) + ", length=" + length() + ", lkey=0x"
                + Integer.toHexString(lkey) + ", rkey=0x" + Integer.toHexString(rkey) + ", access=" + access + "]";
    }
}
