package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.InvalidStateException;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import io.livemig.transport.rdma.verbs.ProtectionDomain;
import io.livemig.transport.rdma.verbs.VerbsException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/** A soft protection domain: the key tables its queue pairs resolve lkeys and rkeys in. */
final class SoftProtectionDomain implements ProtectionDomain {

    private final SoftDevice device;
    private final Map<Integer, SoftMemoryRegion> byLkey = new ConcurrentHashMap<>();
    private final Map<Integer, SoftMemoryRegion> byRkey = new ConcurrentHashMap<>();
    private final AtomicBoolean closed = new AtomicBoolean();

    SoftProtectionDomain(SoftDevice device) {
        this.device = device;
    }

    SoftDevice device() {
        return device;
    }

    @Override
    public MemoryRegion register(MemorySegment memory, Set<AccessFlag> access) throws VerbsException {
        if (closed.get()) {
            throw new InvalidStateException("ibv_reg_mr: protection domain is closed");
        }
        if (!memory.isNative()) {
            throw new VerbsException("ibv_reg_mr: only native memory can be registered, got a heap segment of "
                    + memory.byteSize() + " bytes");
        }
        if (memory.byteSize() == 0 || memory.byteSize() > device.attributes().maxMrSize()) {
            throw new VerbsException("ibv_reg_mr: length " + memory.byteSize() + " is outside 1.."
                    + device.attributes().maxMrSize());
        }
        if (access.contains(AccessFlag.REMOTE_WRITE) && !access.contains(AccessFlag.LOCAL_WRITE)) {
            throw new VerbsException("ibv_reg_mr: REMOTE_WRITE requires LOCAL_WRITE (man ibv_reg_mr), got " + access);
        }
        Set<AccessFlag> flags = access.isEmpty() ? EnumSet.noneOf(AccessFlag.class) : EnumSet.copyOf(access);
        SoftMemoryRegion region = new SoftMemoryRegion(this, memory, device.nextKey(), device.nextKey(), flags);
        byLkey.put(region.lkey(), region);
        byRkey.put(region.rkey(), region);
        if (closed.get()) {
            region.deregister();
            throw new InvalidStateException("ibv_reg_mr: protection domain is closed");
        }
        return region;
    }

    @Override
    @SuppressWarnings("restricted") // a raw address is the verbs contract; the caller vouches for the range
    public MemoryRegion register(long address, long length, Set<AccessFlag> access) throws VerbsException {
        if (address == 0 || length <= 0) {
            throw new VerbsException("ibv_reg_mr: address 0x" + Long.toHexString(address) + " length " + length
                    + " is not a memory range");
        }
        return register(MemorySegment.ofAddress(address).reinterpret(length), access);
    }

    SoftMemoryRegion byLkey(int lkey) {
        return byLkey.get(lkey);
    }

    SoftMemoryRegion byRkey(int rkey) {
        return byRkey.get(rkey);
    }

    void forget(SoftMemoryRegion region) {
        byLkey.remove(region.lkey(), region);
        byRkey.remove(region.rkey(), region);
    }

    List<MemoryRegion> regions() {
        return List.copyOf(byLkey.values());
    }

    int registeredRegions() {
        return byLkey.size();
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            for (SoftMemoryRegion region : new ArrayList<>(byLkey.values())) {
                region.deregister();
            }
            device.forget(this);
        }
    }
}
