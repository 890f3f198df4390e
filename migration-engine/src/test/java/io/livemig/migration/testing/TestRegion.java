package io.livemig.migration.testing;

import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import java.lang.foreign.MemorySegment;
import java.util.Set;

/** A memory region for tests: a segment and a key, deregistration only recorded. */
public final class TestRegion implements MemoryRegion {
    private final MemorySegment memory;
    private final int key;
    /** Whether {@link #deregister()} has not been called. */
    public volatile boolean registered = true;

    /** Creates a region. */
    public TestRegion(MemorySegment memory, int key) {
        this.memory = memory;
        this.key = key;
    }

    @Override
    public long address() {
        return memory.address();
    }

    @Override
    public long length() {
        return memory.byteSize();
    }

    @Override
    public int lkey() {
        return key;
    }

    @Override
    public int rkey() {
        return key;
    }

    @Override
    public Set<AccessFlag> access() {
        return Set.of(AccessFlag.LOCAL_WRITE, AccessFlag.REMOTE_WRITE);
    }

    @Override
    public MemorySegment segment() {
        return memory;
    }

    @Override
    public boolean isRegistered() {
        return registered;
    }

    @Override
    public void deregister() {
        registered = false;
    }
}
