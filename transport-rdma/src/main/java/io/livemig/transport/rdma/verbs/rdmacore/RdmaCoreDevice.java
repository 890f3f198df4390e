package io.livemig.transport.rdma.verbs.rdmacore;

import io.livemig.transport.rdma.unix.FileDescriptors;
import io.livemig.transport.rdma.verbs.CmEventChannel;
import io.livemig.transport.rdma.verbs.CompletionChannel;
import io.livemig.transport.rdma.verbs.CompletionQueue;
import io.livemig.transport.rdma.verbs.DeviceAttributes;
import io.livemig.transport.rdma.verbs.DeviceContext;
import io.livemig.transport.rdma.verbs.InvalidStateException;
import io.livemig.transport.rdma.verbs.ProtectionDomain;
import io.livemig.transport.rdma.verbs.VerbsException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/**
 * An open device. The {@code struct ibv_context} is the one librdmacm opened ({@code rdma_get_devices}), not one
 * from {@code ibv_open_device}: {@code rdma_create_qp} requires the protection domain to live on the very context
 * the connection identifier is bound to ({@code id->verbs}), and rdma_cm binds identifiers to its own contexts.
 * librdmacm owns that context, so closing this object releases what it created and never the context itself.
 *
 * <p>Children are closed in dependency order: event channels (their identifiers and queue pairs) first, then
 * completion queues, completion channels and protection domains (their regions), and the device thread last,
 * because destroying a queue pair may wait for the acknowledgement of an async event that thread reads.
 */
// reinterpret() of pointers libibverbs/librdmacm return is restricted; native access is enabled for the JVM.
@SuppressWarnings("restricted")
final class RdmaCoreDevice implements DeviceContext {

    private static final Logger LOG = Logger.getLogger(RdmaCoreDevice.class.getName());

    /** Private data of an RC connect request on InfiniBand and RoCE: the IB CM REQ's 92 bytes less rdma_cm's 36. */
    static final int MAX_PRIVATE_DATA = 56;

    private final MemorySegment context;
    private final String name;
    private final DeviceAttributes attributes;
    private final DeviceThread thread;
    private final List<RdmaCoreEventChannel> eventChannels = new ArrayList<>();
    private final List<RdmaCoreCompletionQueue> completionQueues = new ArrayList<>();
    private final List<RdmaCoreCompletionChannel> completionChannels = new ArrayList<>();
    private final List<RdmaCoreProtectionDomain> protectionDomains = new ArrayList<>();
    private Boolean onDemandPaging;
    private boolean closed;

    RdmaCoreDevice(MemorySegment context, String name) throws VerbsException {
        this.context = context.reinterpret(VerbsStructs.IBV_CONTEXT.byteSize());
        this.name = name;
        this.attributes = queryAttributes(this.context);
        try {
            this.thread = new DeviceThread(this.context, name);
        } catch (Exception e) {
            throw new VerbsException("cannot start the device thread of " + name + ": " + e.getMessage(), e);
        }
    }

    private static DeviceAttributes queryAttributes(MemorySegment context) throws VerbsException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(VerbsStructs.IBV_DEVICE_ATTR);
            int errno = (int) Ibv.QUERY_DEVICE.invokeExact(context, attr);
            if (errno != 0) {
                throw Errors.failure("ibv_query_device", errno);
            }
            // ibv_device_attr has no inline limit: it is a property of each QP (ibv_qp_init_attr.cap), so 0 here.
            return new DeviceAttributes((long) VerbsStructs.ATTR_MAX_MR_SIZE.get(attr, 0L),
                    (int) VerbsStructs.ATTR_MAX_QP_WR.get(attr, 0L), (int) VerbsStructs.ATTR_MAX_SGE.get(attr, 0L),
                    (int) VerbsStructs.ATTR_MAX_CQE.get(attr, 0L), 0, MAX_PRIVATE_DATA);
        } catch (VerbsException e) {
            throw e;
        } catch (Throwable t) {
            throw Errors.unexpected(t);
        }
    }

    /** The native {@code struct ibv_context *}. */
    MemorySegment context() {
        return context;
    }

    DeviceThread thread() {
        return thread;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public DeviceAttributes attributes() {
        return attributes;
    }

    /**
     * Whether the device supports on-demand paging ({@code odp_caps.general_caps & IBV_ODP_SUPPORT} of
     * {@code ibv_query_device_ex}), asked once.
     *
     * @return {@code true} when registrations may use {@code IBV_ACCESS_ON_DEMAND}
     */
    synchronized boolean supportsOnDemandPaging() {
        if (onDemandPaging == null) {
            onDemandPaging = OnDemandPaging.isSupported(context);
        }
        return onDemandPaging;
    }

    @Override
    public ProtectionDomain allocateProtectionDomain() throws VerbsException {
        synchronized (this) {
            checkOpen("ibv_alloc_pd");
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment state = Errors.allocateErrnoState(arena);
                MemorySegment pd = (MemorySegment) Ibv.ALLOC_PD.invokeExact(state, context);
                if (pd.equals(MemorySegment.NULL)) {
                    throw Errors.failure("ibv_alloc_pd", Errors.errno(state));
                }
                RdmaCoreProtectionDomain domain = new RdmaCoreProtectionDomain(this, pd);
                protectionDomains.add(domain);
                return domain;
            } catch (VerbsException e) {
                throw e;
            } catch (Throwable t) {
                throw Errors.unexpected(t);
            }
        }
    }

    @Override
    public CompletionChannel createCompletionChannel() throws VerbsException {
        synchronized (this) {
            checkOpen("ibv_create_comp_channel");
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment state = Errors.allocateErrnoState(arena);
                MemorySegment channel = (MemorySegment) Ibv.CREATE_COMP_CHANNEL.invokeExact(state, context);
                if (channel.equals(MemorySegment.NULL)) {
                    throw Errors.failure("ibv_create_comp_channel", Errors.errno(state));
                }
                channel = channel.reinterpret(VerbsStructs.IBV_COMP_CHANNEL.byteSize());
                int fd = (int) VerbsStructs.CHANNEL_FD.get(channel, 0L);
                try {
                    // man ibv_get_cq_event: make the fd non-blocking so the event loop never parks in read().
                    FileDescriptors.setNonBlocking(fd);
                } catch (Exception e) {
                    int ignored = (int) Ibv.DESTROY_COMP_CHANNEL.invokeExact(channel);
                    throw new VerbsException("ibv_create_comp_channel: " + e.getMessage(), e);
                }
                RdmaCoreCompletionChannel created = new RdmaCoreCompletionChannel(this, channel, fd);
                completionChannels.add(created);
                return created;
            } catch (VerbsException e) {
                throw e;
            } catch (Throwable t) {
                throw Errors.unexpected(t);
            }
        }
    }

    @Override
    public CompletionQueue createCompletionQueue(int capacity, CompletionChannel channel) throws VerbsException {
        if (capacity < 1 || capacity > attributes.maxCqe()) {
            throw new VerbsException("ibv_create_cq: capacity " + capacity + " is outside 1.." + attributes.maxCqe());
        }
        RdmaCoreCompletionChannel ours = null;
        if (channel != null) {
            if (!(channel instanceof RdmaCoreCompletionChannel c) || c.device() != this) {
                throw new VerbsException("ibv_create_cq: the completion channel belongs to another device");
            }
            ours = c;
        }
        synchronized (this) {
            checkOpen("ibv_create_cq");
            RdmaCoreCompletionQueue cq = RdmaCoreCompletionQueue.create(this, capacity, ours);
            completionQueues.add(cq);
            return cq;
        }
    }

    @Override
    public CmEventChannel createEventChannel() throws VerbsException {
        synchronized (this) {
            checkOpen("rdma_create_event_channel");
            RdmaCoreEventChannel channel = RdmaCoreEventChannel.create(this);
            eventChannels.add(channel);
            return channel;
        }
    }

    private void checkOpen(String operation) throws InvalidStateException {
        if (closed) {
            throw new InvalidStateException(operation + ": device " + name + " is closed");
        }
    }

    /** Removes a child that closed itself. */
    synchronized void forget(Object child) {
        switch (child) {
            case RdmaCoreEventChannel c -> eventChannels.remove(c);
            case RdmaCoreCompletionQueue c -> completionQueues.remove(c);
            case RdmaCoreCompletionChannel c -> completionChannels.remove(c);
            case RdmaCoreProtectionDomain c -> protectionDomains.remove(c);
            default -> throw new IllegalArgumentException("not a child of this device: " + child);
        }
    }

    @Override
    public void close() {
        List<AutoCloseable> children = new ArrayList<>();
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            children.addAll(eventChannels);
            children.addAll(completionQueues);
            children.addAll(completionChannels);
            children.addAll(protectionDomains);
        }
        for (AutoCloseable child : children) {
            try {
                child.close();
            } catch (Exception e) {
                // Log-and-continue: a failed child must not keep the others alive.
                LOG.warning("closing " + child + " failed: " + e);
            }
        }
        thread.close();
    }

    @Override
    public String toString() {
        return "RdmaCoreDevice[" + name + "]";
    }
}
