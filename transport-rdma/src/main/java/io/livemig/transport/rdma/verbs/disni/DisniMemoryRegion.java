package io.livemig.transport.rdma.verbs.disni;

import com.ibm.disni.verbs.IbvMr;
import com.ibm.disni.verbs.SVCDeregMr;
import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.MemoryRegion;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.Set;
import java.util.logging.Logger;

/** A region registered through DiSNI ({@code IbvMr}); {@code ibv_dereg_mr} returns once the device let go of it. */
// reinterpret() of a registered address is restricted; native access is enabled for the JVM.
@SuppressWarnings("restricted")
final class DisniMemoryRegion implements MemoryRegion {

    private static final Logger LOG = Logger.getLogger(DisniMemoryRegion.class.getName());

    private final DisniProtectionDomain pd;
    private final IbvMr mr;
    private final long address;
    private final long length;
    private final Set<AccessFlag> access;
    private boolean registered = true;

    DisniMemoryRegion(DisniProtectionDomain pd, IbvMr mr, long address, long length, Set<AccessFlag> access) {
        this.pd = pd;
        this.mr = mr;
        this.address = address;
        this.length = length;
        this.access = Set.copyOf(access);
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
        return mr.getLkey();
    }

    @Override
    public int rkey() {
        return mr.getRkey();
    }

    @Override
    public Set<AccessFlag> access() {
        return access;
    }

    @Override
    public MemorySegment segment() {
        return MemorySegment.ofAddress(address).reinterpret(length);
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
            SVCDeregMr call = null;
            try {
                call = mr.deregMr().execute();
            } catch (IOException e) {
                LOG.warning("ibv_dereg_mr of rkey " + mr.getRkey() + " failed: " + e.getMessage());
            } finally {
                if (call != null) {
                    call.free();
                }
            }
        }
        pd.forget(this);
    }

    @Override
    public String toString() {
        return "DisniMemoryRegion[0x" + Long.toHexString(address) + "+" + length + ", lkey=" + mr.getLkey()
                + ", rkey=" + mr.getRkey() + "]";
    }
}
