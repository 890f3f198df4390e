package io.livemig.transport.rdma.verbs.disni;

import com.ibm.disni.verbs.IbvContext;
import com.ibm.disni.verbs.RdmaCm;
import com.ibm.disni.verbs.RdmaCmId;
import com.ibm.disni.verbs.RdmaEventChannel;
import io.livemig.transport.rdma.verbs.CmEventChannel;
import io.livemig.transport.rdma.verbs.CompletionChannel;
import io.livemig.transport.rdma.verbs.CompletionQueue;
import io.livemig.transport.rdma.verbs.DeviceAttributes;
import io.livemig.transport.rdma.verbs.DeviceContext;
import io.livemig.transport.rdma.verbs.InvalidStateException;
import io.livemig.transport.rdma.verbs.ProtectionDomain;
import io.livemig.transport.rdma.verbs.VerbsException;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A device opened through DiSNI. DiSNI reaches a device context only through an rdma_cm identifier, so the device
 * keeps one bound to the device's address for its lifetime; librdmacm gives every identifier on the device the
 * same context, which is what {@code rdma_create_qp} requires of the protection domain.
 *
 * <p>One daemon thread per open device ({@value #THREAD_PREFIX}{@code <dev>}) fires handshake deadlines and pumps
 * every event channel every {@value #PUMP_MILLIS} ms, so a peer's DISCONNECTED is answered (the DREP it waits for)
 * even while nobody polls the channel. That is the cost of DiSNI's design: its {@code getCmEvent} is the only way
 * to an event, and it must be called.
 */
final class DisniDevice implements DeviceContext {

    /** The name prefix of each device's thread. */
    static final String THREAD_PREFIX = "livemig-disni-";
    /** Largest private data of an RC connect request (IB CM REQ). */
    static final int MAX_PRIVATE_DATA = 56;
    /** libdisni's {@code MAX_SGE}: every queue pair it creates has 4 SGEs each way. */
    static final int MAX_SGE = 4;
    private static final int PUMP_MILLIS = 20;
    private static final Logger LOG = Logger.getLogger(DisniDevice.class.getName());

    /**
     * DiSNI has no {@code ibv_query_device}. These are what the provider promises and checks itself: a region's
     * length is an {@code int} in DiSNI, and the depths are below every supported device's limits (rxe: 1M WRs,
     * 32K CQEs; ConnectX: 32K WRs, 4M CQEs).
     */
    static final DeviceAttributes ATTRIBUTES = new DeviceAttributes(Integer.MAX_VALUE, 16_384, MAX_SGE, 32_767,
            64, MAX_PRIVATE_DATA);

    private final String name;
    private final RdmaEventChannel bootstrapChannel;
    private final RdmaCmId bootstrapId;
    private final IbvContext context;
    private final ScheduledThreadPoolExecutor thread;
    private final ScheduledFuture<?> pump;
    private final Set<DisniEventChannel> eventChannels = ConcurrentHashMap.newKeySet();
    private final Set<DisniCompletionQueue> completionQueues = ConcurrentHashMap.newKeySet();
    private final Set<DisniCompletionChannel> completionChannels = ConcurrentHashMap.newKeySet();
    private final Set<DisniProtectionDomain> protectionDomains = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private DisniDevice(String name, RdmaEventChannel bootstrapChannel, RdmaCmId bootstrapId, IbvContext context) {
        this.name = name;
        this.bootstrapChannel = bootstrapChannel;
        this.bootstrapId = bootstrapId;
        this.context = context;
        this.thread = new ScheduledThreadPoolExecutor(1, task -> {
            Thread t = new Thread(task, THREAD_PREFIX + name);
            t.setDaemon(true);
            return t;
        });
        thread.setRemoveOnCancelPolicy(true);
        this.pump = thread.scheduleWithFixedDelay(this::pumpAll, PUMP_MILLIS, PUMP_MILLIS, TimeUnit.MILLISECONDS);
    }

    static DisniDevice open(DisniDeviceAddress where) throws VerbsException {
        RdmaEventChannel channel = null;
        RdmaCmId id = null;
        try {
            channel = RdmaEventChannel.createEventChannel();
            id = channel.createId(RdmaCm.RDMA_PS_TCP);
            id.bindAddr(new InetSocketAddress(where.address(), 0));
            IbvContext context = id.getVerbs();
            if (context == null) {
                throw new VerbsException("rdma_bind_addr(" + where.address().getHostAddress() + ") bound no RDMA "
                        + "device: the address is not on an RDMA device's interface");
            }
            DisniDevice device = new DisniDevice(where.device(), channel, id, context);
            channel = null;
            return device;
        } catch (IOException e) {
            throw new VerbsException("cannot open RDMA device " + where.device() + " by "
                    + where.address().getHostAddress() + ": " + e.getMessage(), e);
        } finally {
            if (channel != null) {
                destroyQuietly(id, channel);
            }
        }
    }

    private static void destroyQuietly(RdmaCmId id, RdmaEventChannel channel) {
        try {
            if (id != null) {
                id.destroyId();
            }
            channel.destroyEventChannel();
        } catch (IOException e) {
            LOG.log(Level.FINE, "closing the bootstrap identifier failed", e);
        }
    }

    IbvContext context() {
        return context;
    }

    /**
     * Runs a task on the device thread after a delay.
     *
     * @return cancels the task
     */
    Runnable schedule(long delayNanos, Runnable task) {
        ScheduledFuture<?> future = thread.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
        return () -> future.cancel(false);
    }

    private void pumpAll() {
        for (DisniEventChannel channel : eventChannels) {
            try {
                channel.pump();
            } catch (VerbsException | RuntimeException e) {
                LOG.log(Level.FINE, "pumping an event channel failed", e);
            }
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public DeviceAttributes attributes() {
        return ATTRIBUTES;
    }

    private void checkOpen(String call) throws InvalidStateException {
        if (closed) {
            throw new InvalidStateException(call + ": device " + name + " is closed");
        }
    }

    @Override
    public ProtectionDomain allocateProtectionDomain() throws VerbsException {
        checkOpen("ibv_alloc_pd");
        try {
            DisniProtectionDomain pd = new DisniProtectionDomain(this, context.allocPd());
            protectionDomains.add(pd);
            return pd;
        } catch (IOException e) {
            throw new VerbsException("ibv_alloc_pd: " + e.getMessage(), e);
        }
    }

    @Override
    public CompletionChannel createCompletionChannel() throws VerbsException {
        checkOpen("ibv_create_comp_channel");
        DisniCompletionChannel channel = DisniCompletionChannel.create(this);
        completionChannels.add(channel);
        return channel;
    }

    @Override
    public CompletionQueue createCompletionQueue(int capacity, CompletionChannel channel) throws VerbsException {
        checkOpen("ibv_create_cq");
        if (capacity < 1 || capacity > ATTRIBUTES.maxCqe()) {
            throw new VerbsException("ibv_create_cq: capacity " + capacity + " is outside 1.." + ATTRIBUTES.maxCqe());
        }
        DisniCompletionChannel own = null;
        if (channel != null && !(channel instanceof DisniCompletionChannel)) {
            throw new VerbsException("ibv_create_cq: the completion channel belongs to another provider");
        }
        if (channel == null) {
            // libdisni's createCQ refuses a null channel: a polled-only queue gets a channel of its own, never armed.
            own = DisniCompletionChannel.create(this);
        }
        DisniCompletionQueue cq = DisniCompletionQueue.create(this, capacity, (DisniCompletionChannel) channel, own);
        completionQueues.add(cq);
        return cq;
    }

    @Override
    public CmEventChannel createEventChannel() throws VerbsException {
        checkOpen("rdma_create_event_channel");
        DisniEventChannel channel = DisniEventChannel.create(this);
        eventChannels.add(channel);
        return channel;
    }

    void forget(DisniEventChannel channel) {
        eventChannels.remove(channel);
    }

    void forget(DisniCompletionQueue cq) {
        completionQueues.remove(cq);
    }

    void forget(DisniCompletionChannel channel) {
        completionChannels.remove(channel);
    }

    void forget(DisniProtectionDomain pd) {
        protectionDomains.remove(pd);
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        pump.cancel(false);
        // Identifiers and queue pairs first, then the queues and channels they used, memory last.
        for (DisniEventChannel channel : new ArrayList<>(eventChannels)) {
            channel.close();
        }
        for (DisniCompletionQueue cq : new ArrayList<>(completionQueues)) {
            cq.close();
        }
        for (DisniCompletionChannel channel : new ArrayList<>(completionChannels)) {
            channel.close();
        }
        for (DisniProtectionDomain pd : new ArrayList<>(protectionDomains)) {
            pd.close();
        }
        destroyQuietly(bootstrapId, bootstrapChannel);
        thread.shutdownNow();
        try {
            if (!thread.awaitTermination(5, TimeUnit.SECONDS)) {
                LOG.warning("the thread of device " + name + " did not end within 5 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "DisniDevice[" + name + "]";
    }
}
