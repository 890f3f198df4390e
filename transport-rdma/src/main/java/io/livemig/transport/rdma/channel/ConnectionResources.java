package io.livemig.transport.rdma.channel;

import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.CompletionChannel;
import io.livemig.transport.rdma.verbs.CompletionQueue;
import io.livemig.transport.rdma.verbs.DeviceContext;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import io.livemig.transport.rdma.verbs.ProtectionDomain;
import io.livemig.transport.rdma.verbs.QpInitAttributes;
import io.livemig.transport.rdma.verbs.VerbsException;
import java.lang.foreign.MemorySegment;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What one connection owns on its device: a protection domain, a completion channel and one completion queue for
 * both work queues, the send and receive rings, and the regions the application registered through the channel.
 * Created all or nothing; {@link #close()} destroys them in the order verbs needs (queue, channel, regions, domain)
 * and must run after the queue pair is gone.
 */
final class ConnectionResources implements AutoCloseable {

    private final SharedDomain domain;
    private final ProtectionDomain pd;
    private final CompletionChannel completionChannel;
    private final CompletionQueue cq;
    private final SlotRing sendRing;
    private final SlotRing receiveRing;
    private final Set<MemoryRegion> userRegions = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private ConnectionResources(SharedDomain domain, CompletionChannel completionChannel, CompletionQueue cq,
                                SlotRing sendRing, SlotRing receiveRing) {
        this.domain = domain;
        this.pd = domain.pd;
        this.completionChannel = completionChannel;
        this.cq = cq;
        this.sendRing = sendRing;
        this.receiveRing = receiveRing;
    }

    static ConnectionResources open(DeviceContext device, RdmaChannelConfig config)
            throws VerbsException {
        return open(device, config, new SharedDomain(device, device.allocateProtectionDomain()));
    }

    /**
     * Opens the resources in the protection domain of {@code other}, which must be on the same device: regions
     * registered through either connection are then reachable through both queue pairs (rkeys and lkeys belong to a
     * domain). The domain is destroyed when the last connection using it closes.
     *
     * @throws VerbsException when {@code other} is closed or on another device
     */
    static ConnectionResources openSharing(DeviceContext device, RdmaChannelConfig config, ConnectionResources other)
            throws VerbsException {
        if (other.domain.device != device) {
            throw new VerbsException("cannot share a protection domain across devices");
        }
        if (!other.domain.retain()) {
            throw new VerbsException("the protection domain to share is closed");
        }
        return open(device, config, other.domain);
    }

    /** Opens the rest in {@code domain}, whose reference the caller holds and hands over (released on failure). */
    private static ConnectionResources open(DeviceContext device, RdmaChannelConfig config, SharedDomain domain)
            throws VerbsException {
        ProtectionDomain pd = domain.pd;
        CompletionChannel channel = null;
        CompletionQueue cq = null;
        SlotRing sendRing = null;
        boolean success = false;
        try {
            channel = device.createCompletionChannel();
            cq = device.createCompletionQueue(config.getCqSize(), channel);
            int slotSize = config.getReceiveBufferSize();
            sendRing = SlotRing.register(pd, config.getSendBufferCount(), slotSize, Set.of());
            SlotRing receiveRing = SlotRing.register(pd, config.getReceiveBufferCount(), slotSize,
                    Set.of(AccessFlag.LOCAL_WRITE));
            ConnectionResources resources = new ConnectionResources(domain, channel, cq, sendRing, receiveRing);
            success = true;
            return resources;
        } finally {
            if (!success) {
                if (sendRing != null) {
                    sendRing.close();
                }
                if (cq != null) {
                    cq.close();
                }
                if (channel != null) {
                    channel.close();
                }
                domain.release();
            }
        }
    }

    QpInitAttributes queuePairAttributes(RdmaChannelConfig config) {
        return new QpInitAttributes(cq, cq, config.getSendQueueDepth(), config.getReceiveQueueDepth(), 1, 1,
                config.getMaxInline(), true);
    }

    ProtectionDomain pd() {
        return pd;
    }

    CompletionChannel completionChannel() {
        return completionChannel;
    }

    CompletionQueue cq() {
        return cq;
    }

    SlotRing sendRing() {
        return sendRing;
    }

    SlotRing receiveRing() {
        return receiveRing;
    }

    MemoryRegion register(MemorySegment memory, Set<AccessFlag> access) throws VerbsException {
        MemoryRegion region = pd.register(memory, access);
        userRegions.add(region);
        if (closed) {
            // Raced with close(): close() may have missed it, so the region must not outlive the domain here.
            region.deregister();
            throw new VerbsException("the channel is closed");
        }
        return region;
    }

    /**
     * The application's region, registered through the channel and not deregistered since, that holds all of
     * {@code [address, address + length)}; a buffer there can be sent without copying it into the send ring.
     *
     * @return the region, or {@code null} when no live region holds the whole range
     */
    MemoryRegion regionContaining(long address, int length) {
        if (closed || userRegions.isEmpty()) {
            return null;
        }
        for (MemoryRegion region : userRegions) {
            // Deregistered regions stay in the set until close(); their lkey is dead and must not be used.
            if (address >= region.address() && address + length <= region.address() + region.length()
                    && region.isRegistered()) {
                return region;
            }
        }
        return null;
    }

    /** Destroys everything but the queue pair, which its connection identifier owns and destroys first. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        cq.close();
        completionChannel.close();
        sendRing.close();
        receiveRing.close();
        for (MemoryRegion region : userRegions) {
            region.deregister();
        }
        domain.release();
    }

    /** A protection domain and the connections using it: the last release closes it. */
    private static final class SharedDomain {
        private final DeviceContext device;
        private final ProtectionDomain pd;
        private final java.util.concurrent.atomic.AtomicInteger references =
                new java.util.concurrent.atomic.AtomicInteger(1);

        SharedDomain(DeviceContext device, ProtectionDomain pd) {
            this.device = device;
            this.pd = pd;
        }

        /** Takes a reference unless the domain is already closed. */
        boolean retain() {
            for (;;) {
                int current = references.get();
                if (current <= 0) {
                    return false;
                }
                if (references.compareAndSet(current, current + 1)) {
                    return true;
                }
            }
        }

        void release() {
            if (references.decrementAndGet() == 0) {
                pd.close();
            }
        }
    }
}
