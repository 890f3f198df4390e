package io.livemig.transport.rdma.verbs.rdmacore;

import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import java.lang.foreign.MemorySegment;
import java.util.Set;
import java.util.logging.Logger;

/**
 * A registered memory region ({@code struct ibv_mr}), owned by the caller and tracked by its protection domain so
 * that closing the domain deregisters it. {@code ibv_dereg_mr} returns only once the device no longer accesses the
 * memory, which is exactly the guarantee {@link #deregister()} gives.
 */
// reinterpret() of pointers libibverbs/librdmacm return is restricted; native access is enabled for the JVM.
@SuppressWarnings("restricted")
final class RdmaCoreMemoryRegion implements MemoryRegion {

    private static final Logger LOG = Logger.getLogger(RdmaCoreMemoryRegion.class.getName());

    private final RdmaCoreProtectionDomain pd;
    private final MemorySegment mr;
    private final long address;
    private final long length;
    private final int lkey;
    private final int rkey;
    private final Set<AccessFlag> access;
    private final boolean onDemand;
    private boolean registered = true;

    RdmaCoreMemoryRegion(RdmaCoreProtectionDomain pd, MemorySegment mr, long address, long length,
                         Set<AccessFlag> access, boolean onDemand) {
        this.pd = pd;
        this.mr = mr;
        this.address = address;
        this.length = length;
        this.lkey = (int) VerbsStructs.MR_LKEY.get(mr, 0L);
        this.rkey = (int) VerbsStructs.MR_RKEY.get(mr, 0L);
        this.access = Set.copyOf(access);
        this.onDemand = onDemand;
    }

    @Override
    public long address() {
        return address;
    }

    @Override
    public long length() {
        return length;
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
        return MemorySegment.ofAddress(address).reinterpret(length);
    }

    /**
     * Whether the region fell back to on-demand paging ({@code IBV_ACCESS_ON_DEMAND}) because pinning was refused.
     *
     * @return {@code true} for an ODP region
     */
    boolean isOnDemand() {
        return onDemand;
    }

    @Override
    public synchronized boolean isRegistered() {
        return registered;
    }

    @Override
    public void deregister() {
        synchronized (this) {
            if (!registered) {
                return;
            }
            registered = false;
            try {
                int errno = (int) Ibv.DEREG_MR.invokeExact(mr);
                if (errno != 0) {
                    LOG.warning("ibv_dereg_mr of rkey " + rkey + " failed: errno " + errno);
                }
            } catch (Throwable t) {
                throw Errors.unexpected(t);
            }
        }
        pd.forget(this);
    }

    @Override
    public String toString() {
        return "RdmaCoreMemoryRegion[0x" + Long.toHexString(address) + "+" + length + ", lkey=" + lkey + ", rkey="
                + rkey + (onDemand ? ", odp" : "") + "]";
    }
}
