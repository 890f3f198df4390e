package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.unix.NativeIoException;
import io.livemig.transport.rdma.verbs.CmEventChannel;
import io.livemig.transport.rdma.verbs.CompletionChannel;
import io.livemig.transport.rdma.verbs.CompletionQueue;
import io.livemig.transport.rdma.verbs.DeviceAttributes;
import io.livemig.transport.rdma.verbs.DeviceContext;
import io.livemig.transport.rdma.verbs.InvalidStateException;
import io.livemig.transport.rdma.verbs.ProtectionDomain;
import io.livemig.transport.rdma.verbs.QpInitAttributes;
import io.livemig.transport.rdma.verbs.VerbsException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A soft device on one fabric. It owns one timer thread (RNR and ACK timers, handshake timeouts) and closes, in
 * dependency order, whatever its user left open.
 */
final class SoftDevice implements DeviceContext {

    /** Limits of the soft device; 56 bytes is the private data of an IB CM REQ as rdma_connect allows for RC. */
    static final DeviceAttributes ATTRIBUTES = new DeviceAttributes(Long.MAX_VALUE, 16_384, 16, 1 << 20, 1024, 56);
    private static final AtomicInteger DEVICES = new AtomicInteger();

    private final Fabric fabric;
    private final boolean ownsFabric;
    private final String name;
    private final ScheduledThreadPoolExecutor timers;
    private final AtomicInteger keys = new AtomicInteger(ThreadLocalRandom.current().nextInt(1 << 20) << 8);
    private final AtomicInteger qpNumbers = new AtomicInteger(0x100 + ThreadLocalRandom.current().nextInt(1 << 12));
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Set<SoftCmEventChannel> eventChannels = ConcurrentHashMap.newKeySet();
    private final Set<SoftQueuePair> queuePairs = ConcurrentHashMap.newKeySet();
    private final Set<SoftCompletionQueue> completionQueues = ConcurrentHashMap.newKeySet();
    private final Set<SoftCompletionChannel> completionChannels = ConcurrentHashMap.newKeySet();
    private final Set<SoftProtectionDomain> protectionDomains = ConcurrentHashMap.newKeySet();

    SoftDevice(Fabric fabric, boolean ownsFabric) {
        this.fabric = fabric;
        this.ownsFabric = ownsFabric;
        this.name = "soft-" + fabric.name() + DEVICES.getAndIncrement();
        this.timers = new ScheduledThreadPoolExecutor(1, SoftThreads.factory("timer"));
        this.timers.setRemoveOnCancelPolicy(true);
        this.timers.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    Fabric fabric() {
        return fabric;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public DeviceAttributes attributes() {
        return ATTRIBUTES;
    }

    /** The soft provider reads and writes registered memory through a {@code MemorySegment}: nothing is pinned. */
    @Override
    public boolean pinsRegisteredMemory() {
        return false;
    }

    int nextKey() {
        return keys.incrementAndGet();
    }

    int nextQpNumber() {
        return qpNumbers.getAndIncrement() & 0xFF_FFFF;
    }

    private void checkOpen(String operation) throws InvalidStateException {
        if (closed.get()) {
            throw new InvalidStateException(operation + ": device " + name + " is closed");
        }
    }

    @Override
    public ProtectionDomain allocateProtectionDomain() throws VerbsException {
        checkOpen("ibv_alloc_pd");
        SoftProtectionDomain pd = new SoftProtectionDomain(this);
        protectionDomains.add(pd);
        return pd;
    }

    @Override
    public CompletionChannel createCompletionChannel() throws VerbsException {
        checkOpen("ibv_create_comp_channel");
        try {
            SoftCompletionChannel channel = new SoftCompletionChannel(this);
            completionChannels.add(channel);
            return channel;
        } catch (NativeIoException e) {
            throw new VerbsException("ibv_create_comp_channel: eventfd failed", e);
        }
    }

    @Override
    public CompletionQueue createCompletionQueue(int capacity, CompletionChannel channel) throws VerbsException {
        checkOpen("ibv_create_cq");
        if (capacity < 1 || capacity > ATTRIBUTES.maxCqe()) {
            throw new VerbsException("ibv_create_cq: capacity " + capacity + " is outside 1.." + ATTRIBUTES.maxCqe());
        }
        if (channel != null && !(channel instanceof SoftCompletionChannel)) {
            throw new VerbsException("ibv_create_cq: the completion channel belongs to another provider");
        }
        SoftCompletionQueue cq = new SoftCompletionQueue(this, capacity, (SoftCompletionChannel) channel);
        completionQueues.add(cq);
        return cq;
    }

    @Override
    public CmEventChannel createEventChannel() throws VerbsException {
        checkOpen("rdma_create_event_channel");
        try {
            SoftCmEventChannel channel = new SoftCmEventChannel(this);
            eventChannels.add(channel);
            return channel;
        } catch (NativeIoException e) {
            throw new VerbsException("rdma_create_event_channel: eventfd failed", e);
        }
    }

    SoftQueuePair newQueuePair(SoftProtectionDomain pd, QpInitAttributes attributes)
            throws VerbsException {
        checkOpen("rdma_create_qp");
        DeviceAttributes limits = ATTRIBUTES;
        if (attributes.maxSendWr() > limits.maxQpWr() || attributes.maxReceiveWr() > limits.maxQpWr()
                || attributes.maxSendSge() > limits.maxSge() || attributes.maxReceiveSge() > limits.maxSge()
                || attributes.maxInlineData() > limits.maxInlineData()) {
            throw new VerbsException("rdma_create_qp: attributes exceed the limits of " + name + " (max_qp_wr "
                    + limits.maxQpWr() + ", max_sge " + limits.maxSge() + ", max_inline_data "
                    + limits.maxInlineData() + "): send/receive depth " + attributes.maxSendWr() + "/"
                    + attributes.maxReceiveWr() + ", send/receive SGEs " + attributes.maxSendSge() + "/"
                    + attributes.maxReceiveSge() + ", inline " + attributes.maxInlineData());
        }
        SoftQueuePair qp = new SoftQueuePair(this, pd, attributes, nextQpNumber());
        queuePairs.add(qp);
        return qp;
    }

    ScheduledFuture<?> schedule(Duration delay, Runnable task) {
        try {
            return timers.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return null; // the device is closing; its queue pairs are being flushed anyway
        }
    }

    void forget(Object resource) {
        switch (resource) {
            case SoftCmEventChannel channel -> eventChannels.remove(channel);
            case SoftQueuePair qp -> queuePairs.remove(qp);
            case SoftCompletionQueue cq -> completionQueues.remove(cq);
            case SoftCompletionChannel channel -> completionChannels.remove(channel);
            case SoftProtectionDomain pd -> protectionDomains.remove(pd);
            default -> throw new IllegalArgumentException("not a soft resource: " + resource);
        }
    }

    /** The number of resources still open, for leak checks in tests. */
    int openResources() {
        return eventChannels.size() + queuePairs.size() + completionQueues.size() + completionChannels.size()
                + protectionDomains.size();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        // Dependency order of ibv/rdma_cm teardown: ids and QPs, then CQs, channels, PDs (which deregister MRs).
        closeAll(eventChannels);
        closeAll(queuePairs);
        closeAll(completionQueues);
        closeAll(completionChannels);
        closeAll(protectionDomains);
        timers.shutdownNow();
        if (ownsFabric) {
            fabric.close();
        }
    }

    private static void closeAll(Set<? extends AutoCloseable> resources) {
        List<AutoCloseable> snapshot = new ArrayList<>(resources);
        for (AutoCloseable resource : snapshot) {
            try {
                resource.close();
            } catch (Exception e) {
                // Keep closing the rest; every close here is documented not to throw.
                System.getLogger(SoftDevice.class.getName()).log(System.Logger.Level.WARNING, "close failed", e);
            }
        }
        resources.clear();
    }

    @Override
    public String toString() {
        return "SoftDevice[" + name + "]";
    }
}
