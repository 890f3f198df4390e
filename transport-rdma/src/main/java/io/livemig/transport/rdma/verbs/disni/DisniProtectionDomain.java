package io.livemig.transport.rdma.verbs.disni;

import com.ibm.disni.verbs.IbvMr;
import com.ibm.disni.verbs.IbvPd;
import com.ibm.disni.verbs.SVCRegMr;
import com.ibm.disni.verbs.impl.NatObject;
import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.InvalidStateException;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import io.livemig.transport.rdma.verbs.ProtectionDomain;
import io.livemig.transport.rdma.verbs.VerbsException;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.logging.Logger;

/**
 * A protection domain ({@code IbvPd}) and the regions registered in it. DiSNI's {@code regMr} takes an {@code int}
 * length, so one region is at most 2 GiB - 1 (DiSNI issue #39); a longer registration is refused here with that
 * reason instead of being truncated.
 */
final class DisniProtectionDomain implements ProtectionDomain {

    private static final Logger LOG = Logger.getLogger(DisniProtectionDomain.class.getName());

    private final DisniDevice device;
    private final IbvPd pd;
    private final List<DisniMemoryRegion> regions = new ArrayList<>();
    private boolean closed;

    DisniProtectionDomain(DisniDevice device, IbvPd pd) {
        this.device = device;
        this.pd = pd;
    }

    DisniDevice device() {
        return device;
    }

    IbvPd pd() {
        return pd;
    }

    long pointer() {
        return ((NatObject) pd).getObjId();
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
        if (length < 1 || length > Integer.MAX_VALUE) {
            throw new VerbsException("ibv_reg_mr: length " + length + " is outside 1.." + Integer.MAX_VALUE
                    + " (DiSNI registers at most 2 GiB - 1 per region)");
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
            SVCRegMr call = null;
            try {
                call = pd.regMr(address, (int) length, flags).execute();
                IbvMr mr = call.getMr();
                DisniMemoryRegion region = new DisniMemoryRegion(this, mr, address, length, access);
                regions.add(region);
                return region;
            } catch (IOException e) {
                throw new VerbsException("ibv_reg_mr of " + length + " bytes: " + e.getMessage()
                        + " (pinned memory is limited by ulimit -l)", e);
            } finally {
                if (call != null) {
                    call.free();
                }
            }
        }
    }

    synchronized void forget(DisniMemoryRegion region) {
        regions.remove(region);
    }

    @Override
    public void close() {
        List<DisniMemoryRegion> toDeregister;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            toDeregister = List.copyOf(regions);
        }
        for (DisniMemoryRegion region : toDeregister) {
            region.deregister();
        }
        try {
            int result = pd.deallocPd();
            if (result != 0) {
                LOG.warning("ibv_dealloc_pd failed: " + result + " (a queue pair of the domain is still alive)");
            }
        } catch (Exception e) {
            LOG.warning("ibv_dealloc_pd failed: " + e);
        }
        device.forget(this);
    }
}
