package io.livemig.transport.rdma.verbs.rdmacore;

import static java.lang.foreign.ValueLayout.ADDRESS;

import io.livemig.transport.rdma.unix.Epoll;
import io.livemig.transport.rdma.unix.Errno;
import io.livemig.transport.rdma.unix.EventFd;
import io.livemig.transport.rdma.unix.FileDescriptors;
import io.livemig.transport.rdma.verbs.CmEvent;
import io.livemig.transport.rdma.verbs.CmEventChannel;
import io.livemig.transport.rdma.verbs.CmEventType;
import io.livemig.transport.rdma.verbs.CmId;
import io.livemig.transport.rdma.verbs.InvalidStateException;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.VerbsTimeoutException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * An rdma_cm event channel ({@code rdma_create_event_channel}) and the identifiers created on it.
 *
 * <p>Native events are drained by {@link #pump()}, from the device thread as soon as the rdma_cm descriptor is
 * readable and from {@link #pollEvent()} itself: each is copied (private data included), acknowledged at once
 * with {@code rdma_ack_cm_event} ({@code rdma_destroy_id} blocks until every event of the identifier is
 * acknowledged, and a close may be running), handed to its identifier, which answers what the protocol requires
 * (the DREP to a disconnect), and queued for the caller.
 *
 * <p>{@link #fd()} is a level-triggered epoll set holding the rdma_cm descriptor and an eventfd that is signalled
 * while the queue is not empty; the queue also carries events the provider makes itself (ADDR_ERROR for a name
 * that does not resolve, and the UNREACHABLE or CONNECT_ERROR of a handshake that outlived its timeout, which the
 * IB CM would report only minutes later). An epoll fd is readable exactly while one of its members is
 * ({@code man 7 epoll}, "Q3").
 */
// reinterpret() of pointers libibverbs/librdmacm return is restricted; native access is enabled for the JVM.
@SuppressWarnings("restricted")
final class RdmaCoreEventChannel implements CmEventChannel {

    private final RdmaCoreDevice device;
    private final MemorySegment channel;
    private final int cmFd;
    private final Epoll epoll;
    private final EventFd provided;
    private final ConcurrentLinkedQueue<CmEvent> providedEvents = new ConcurrentLinkedQueue<>();
    /** Serialises draining, so events are queued in the order rdma_cm reported them. */
    private final Object pumpLock = new Object();
    private long watchKey;
    private final Map<Long, RdmaCoreCmId> ids = new ConcurrentHashMap<>();
    private final Arena arena = Arena.ofShared();
    private final MemorySegment state = Errors.allocateErrnoState(arena);
    private final MemorySegment eventOut = arena.allocate(ADDRESS);
    private boolean closed;

    private RdmaCoreEventChannel(RdmaCoreDevice device, MemorySegment channel, int cmFd, Epoll epoll,
                                 EventFd provided) {
        this.device = device;
        this.channel = channel;
        this.cmFd = cmFd;
        this.epoll = epoll;
        this.provided = provided;
    }

    static RdmaCoreEventChannel create(RdmaCoreDevice device) throws VerbsException {
        MemorySegment channel = MemorySegment.NULL;
        Epoll epoll = null;
        EventFd provided = null;
        boolean success = false;
        try (Arena scratch = Arena.ofConfined()) {
            MemorySegment errnoState = Errors.allocateErrnoState(scratch);
            channel = (MemorySegment) Cm.CREATE_EVENT_CHANNEL.invokeExact(errnoState);
            if (channel.equals(MemorySegment.NULL)) {
                throw Errors.failure("rdma_create_event_channel", Errors.errno(errnoState));
            }
            channel = channel.reinterpret(CmStructs.RDMA_EVENT_CHANNEL.byteSize());
            int cmFd = (int) CmStructs.CHANNEL_FD.get(channel, 0L);
            // man rdma_get_cm_event: with O_NONBLOCK set the call fails with EAGAIN instead of waiting.
            FileDescriptors.setNonBlocking(cmFd);
            epoll = Epoll.open();
            provided = EventFd.open();
            epoll.add(cmFd, Epoll.EPOLLIN, 0);
            epoll.add(provided.fd(), Epoll.EPOLLIN, 1);
            RdmaCoreEventChannel created = new RdmaCoreEventChannel(device, channel, cmFd, epoll, provided);
            created.watchKey = device.thread().watch(created, cmFd);
            success = true;
            return created;
        } catch (VerbsException e) {
            throw e;
        } catch (Exception e) {
            throw new VerbsException("rdma_create_event_channel: " + e.getMessage(), e);
        } catch (Throwable t) {
            throw Errors.unexpected(t);
        } finally {
            if (!success) {
                if (epoll != null) {
                    epoll.close();
                }
                if (provided != null) {
                    provided.close();
                }
                if (!channel.equals(MemorySegment.NULL)) {
                    destroyNative(channel);
                }
            }
        }
    }

    private static void destroyNative(MemorySegment channel) {
        try {
            Cm.DESTROY_EVENT_CHANNEL.invokeExact(channel);
        } catch (Throwable t) {
            throw Errors.unexpected(t);
        }
    }

    RdmaCoreDevice device() {
        return device;
    }

    @Override
    public int fd() {
        return epoll.fd();
    }

    @Override
    public CmId createId() throws VerbsException {
        synchronized (pumpLock) {
            if (closed) {
                throw new InvalidStateException("rdma_create_id: event channel is closed");
            }
            try (Arena scratch = Arena.ofConfined()) {
                MemorySegment errnoState = Errors.allocateErrnoState(scratch);
                MemorySegment idOut = scratch.allocate(ADDRESS);
                if ((int) Cm.CREATE_ID.invokeExact(errnoState, channel, idOut, MemorySegment.NULL,
                        CmStructs.RDMA_PS_TCP) != 0) {
                    throw Errors.failure("rdma_create_id", Errors.errno(errnoState));
                }
                RdmaCoreCmId created = register(idOut.get(ADDRESS, 0), RdmaCoreCmId.State.IDLE);
                created.applyProviderOptions();
                return created;
            } catch (VerbsException e) {
                throw e;
            } catch (Throwable t) {
                throw Errors.unexpected(t);
            }
        }
    }

    private RdmaCoreCmId register(MemorySegment id, RdmaCoreCmId.State state) {
        RdmaCoreCmId created = new RdmaCoreCmId(this, id.reinterpret(CmStructs.RDMA_CM_ID.byteSize()), state);
        ids.put(id.address(), created);
        return created;
    }

    void forget(RdmaCoreCmId id) {
        ids.remove(id.pointer().address());
    }

    /** Queues an event for the caller and makes {@link #fd()} readable. */
    void provide(CmEvent event) {
        providedEvents.add(event);
        provided.signal();
    }

    @Override
    public CmEvent pollEvent() throws VerbsException {
        synchronized (pumpLock) {
            if (closed) {
                throw new InvalidStateException("rdma_get_cm_event: event channel is closed");
            }
        }
        pump();
        return takeProvided();
    }

    /**
     * Drains every pending native event into the queue; a no-op once closed.
     *
     * @throws VerbsException when rdma_get_cm_event or rdma_ack_cm_event fails
     */
    void pump() throws VerbsException {
        synchronized (pumpLock) {
            for (;;) {
                if (closed) {
                    return;
                }
                Pending next = nextNative();
                if (next == null) {
                    return;
                }
                CmEvent event = next.dispatch();
                if (event != null) {
                    provide(event);
                }
            }
        }
    }

    private CmEvent takeProvided() {
        CmEvent event = providedEvents.poll();
        if (providedEvents.isEmpty()) {
            provided.drain();
            if (!providedEvents.isEmpty()) {
                provided.signal(); // one was added between the check and the drain
            }
        }
        return event;
    }

    /** A native event, copied and acknowledged, waiting to be handed to its identifier. */
    private record Pending(RdmaCoreCmId id, RdmaCoreCmId listenId, int type, int status, byte[] privateData) {
        CmEvent dispatch() {
            return id == null ? null : id.onEvent(type, status, privateData, listenId);
        }
    }

    /** Reads, copies and acknowledges one native event; {@code null} when none is pending. Holds pumpLock. */
    private Pending nextNative() throws VerbsException {
        try {
            if ((int) Cm.GET_CM_EVENT.invokeExact(state, channel, eventOut) != 0) {
                int errno = Errors.errno(state);
                if (errno == Errno.EAGAIN || errno == Errno.EINTR) {
                    return null;
                }
                throw Errors.failure("rdma_get_cm_event", errno);
            }
            MemorySegment event = eventOut.get(ADDRESS, 0).reinterpret(CmStructs.RDMA_CM_EVENT.byteSize());
            int type = (int) CmStructs.EVENT_TYPE.get(event, 0L);
            int status = (int) CmStructs.EVENT_STATUS.get(event, 0L);
            MemorySegment idPointer = (MemorySegment) CmStructs.EVENT_ID.get(event, 0L);
            MemorySegment listenPointer = (MemorySegment) CmStructs.EVENT_LISTEN_ID.get(event, 0L);
            byte[] privateData = copyPrivateData(event);
            RdmaCoreCmId id;
            RdmaCoreCmId listenId = null;
            if (type == CmEventType.CONNECT_REQUEST.value()) {
                // event->id is a new identifier for the connection, created by librdmacm on this channel.
                listenId = ids.get(listenPointer.address());
                id = register(idPointer, RdmaCoreCmId.State.CONNECT_REQUESTED);
                id.applyProviderOptions();
            } else {
                id = ids.get(idPointer.address());
            }
            if ((int) Cm.ACK_CM_EVENT.invokeExact(state, event) != 0) {
                throw Errors.failure("rdma_ack_cm_event", Errors.errno(state));
            }
            return new Pending(id, listenId, type, status, privateData);
        } catch (VerbsException e) {
            throw e;
        } catch (Throwable t) {
            throw Errors.unexpected(t);
        }
    }

    private static byte[] copyPrivateData(MemorySegment event) {
        MemorySegment data = (MemorySegment) CmStructs.EVENT_PRIVATE_DATA.get(event, 0L);
        int length = Byte.toUnsignedInt((byte) CmStructs.EVENT_PRIVATE_DATA_LEN.get(event, 0L));
        if (data.equals(MemorySegment.NULL) || length == 0) {
            return new byte[0];
        }
        return data.reinterpret(length).toArray(ValueLayout.JAVA_BYTE);
    }

    @Override
    public CmEvent awaitEvent(Duration timeout) throws VerbsException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (;;) {
            CmEvent event = pollEvent();
            if (event != null) {
                return event;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new VerbsTimeoutException("rdma_get_cm_event: no event within " + timeout);
            }
            try {
                FileDescriptors.poll(fd(), FileDescriptors.POLLIN,
                        (int) Math.max(1, Math.min(Integer.MAX_VALUE, TimeUnit.NANOSECONDS.toMillis(left))));
            } catch (Exception e) {
                throw new VerbsException("rdma_get_cm_event: poll on fd " + fd() + " failed", e);
            }
        }
    }

    @Override
    public void close() {
        List<RdmaCoreCmId> open;
        synchronized (pumpLock) {
            if (closed) {
                return;
            }
            closed = true;
            open = new ArrayList<>(ids.values());
        }
        device.thread().unwatch(watchKey, cmFd);
        // man rdma_destroy_event_channel: all identifiers must be destroyed first. Connections before listeners,
        // so a listener's destroy does not race with the connections it spawned.
        open.sort((a, b) -> Boolean.compare(a.isListening(), b.isListening()));
        for (RdmaCoreCmId id : open) {
            id.close();
        }
        destroyNative(channel);
        epoll.close();
        provided.close();
        arena.close();
        device.forget(this);
    }
}
