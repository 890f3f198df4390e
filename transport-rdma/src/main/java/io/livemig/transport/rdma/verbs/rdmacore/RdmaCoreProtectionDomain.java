package io.livemig.transport.rdma.verbs.rdmacore;

import io.livemig.transport.rdma.unix.Errno;
import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.InvalidStateException;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import io.livemig.transport.rdma.verbs.ProtectionDomain;
import io.livemig.transport.rdma.verbs.VerbsException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.logging.Logger;

/**
 * A protection domain ({@code ibv_alloc_pd}) and the regions registered in it. Registration takes 64-bit lengths
 * ({@code size_t} in {@code ibv_reg_mr}), checks the memlock limit first, and falls back to on-demand paging the
 * way QEMU does when the device refuses to pin ({@code EOPNOTSUPP}) but supports ODP.
 */
// reinterpret() of pointers libibverbs/librdmacm return is restricted; native access is enabled for the JVM.
@SuppressWarnings("restricted")
final class RdmaCoreProtectionDomain implements ProtectionDomain {

    private static final Logger LOG = Logger.getLogger(RdmaCoreProtectionDomain.class.getName());

    private final RdmaCoreDevice device;
    private final MemorySegment pd;
    private final List<RdmaCoreMemoryRegion> regions = new ArrayList<>();
    private boolean closed;

    RdmaCoreProtectionDomain(RdmaCoreDevice device, MemorySegment pd) {
        this.device = device;
        this.pd = pd;
    }

    /** The native {@code struct ibv_pd *}. */
    MemorySegment pointer() {
        return pd;
    }

    RdmaCoreDevice device() {
        return device;
    }

    @Override
    public MemoryRegion register(MemorySegment memory, Set<AccessFlag> access) throws VerbsException {
        if (!memory.isNative()) {
            throw new VerbsException("ibv_reg_mr: only native memory can be registered, got a heap segment of "
                    + memory.byteSize() + " bytes");
        }
        return register(memory.address(), memory.byteSize(), access);
    }

    @Override
    public MemoryRegion register(long address, long length, Set<AccessFlag> access) throws VerbsException {
        long maxMrSize = device.attributes().maxMrSize();
        if (length < 1 || Long.compareUnsigned(length, maxMrSize) > 0) {
            throw new VerbsException("ibv_reg_mr: length " + length + " is outside 1.." + maxMrSize);
        }
        if (access.contains(AccessFlag.REMOTE_WRITE) && !access.contains(AccessFlag.LOCAL_WRITE)) {
            throw new VerbsException("ibv_reg_mr: REMOTE_WRITE requires LOCAL_WRITE (man ibv_reg_mr), got " + access);
        }
        int flags = 0;
        for (AccessFlag flag : access) {
            flags |= flag.value();
        }
        synchronized (this) {
            if (closed) {
                throw new InvalidStateException("ibv_reg_mr: protection domain is closed");
            }
            Memlock.checkCanPin(length);
            RdmaCoreMemoryRegion region = registerNative(address, length, access, flags);
            regions.add(region);
            return region;
        }
    }

    private RdmaCoreMemoryRegion registerNative(long address, long length, Set<AccessFlag> access, int flags)
            throws VerbsException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Errors.allocateErrnoState(arena);
            MemorySegment mr = (MemorySegment) Ibv.REG_MR.invokeExact(state, pd, MemorySegment.ofAddress(address),
                    length, flags);
            if (!mr.equals(MemorySegment.NULL)) {
                return new RdmaCoreMemoryRegion(this, mr.reinterpret(VerbsStructs.IBV_MR.byteSize()), address, length,
                        access, false);
            }
            int errno = Errors.errno(state);
            // QEMU (migration/rdma.c, qemu_rdma_reg_whole_ram_blocks): when pinning is not supported, retry with
            // IBV_ACCESS_ON_DEMAND if the device advertises ODP; pages are then faulted in by the device.
            if (errno == Errno.EOPNOTSUPP && device.supportsOnDemandPaging()) {
                mr = (MemorySegment) Ibv.REG_MR.invokeExact(state, pd, MemorySegment.ofAddress(address), length,
                        flags | VerbsStructs.IBV_ACCESS_ON_DEMAND);
                if (!mr.equals(MemorySegment.NULL)) {
                    return new RdmaCoreMemoryRegion(this, mr.reinterpret(VerbsStructs.IBV_MR.byteSize()), address,
                            length, access, true);
                }
                errno = Errors.errno(state);
            }
            long soft = Memlock.limits()[0];
            if ((errno == Errno.ENOMEM || errno == Errno.EAGAIN || errno == Errno.EPERM)
                    && soft != Memlock.RLIM_INFINITY && !Memlock.hasIpcLock()) {
                throw Memlock.cannotPin(length, soft);
            }
            throw Errors.failure("ibv_reg_mr", errno);
        } catch (VerbsException e) {
            throw e;
        } catch (Throwable t) {
            throw Errors.unexpected(t);
        }
    }

    synchronized void forget(RdmaCoreMemoryRegion region) {
        regions.remove(region);
    }

    @Override
    public void close() {
        List<RdmaCoreMemoryRegion> toDeregister;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            toDeregister = List.copyOf(regions);
        }
        for (RdmaCoreMemoryRegion region : toDeregister) {
            region.deregister();
        }
        try {
            int errno = (int) Ibv.DEALLOC_PD.invokeExact(pd);
            if (errno != 0) {
                // EBUSY: a queue pair of this domain is still alive; the device closes those first.
                LOG.warning("ibv_dealloc_pd failed: " + Errno.name(errno));
            }
        } catch (Throwable t) {
            throw Errors.unexpected(t);
        }
        device.forget(this);
    }
}
