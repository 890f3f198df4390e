package io.livemig.transport.rdma.verbs.disni;

import com.ibm.disni.verbs.RdmaCm;
import com.ibm.disni.verbs.RdmaCmEvent;
import com.ibm.disni.verbs.RdmaCmId;
import com.ibm.disni.verbs.RdmaEventChannel;
import com.ibm.disni.verbs.impl.NatObject;
import io.livemig.transport.rdma.unix.Epoll;
import io.livemig.transport.rdma.unix.EventFd;
import io.livemig.transport.rdma.unix.FileDescriptors;
import io.livemig.transport.rdma.verbs.CmEvent;
import io.livemig.transport.rdma.verbs.CmEventChannel;
import io.livemig.transport.rdma.verbs.CmId;
import io.livemig.transport.rdma.verbs.InvalidStateException;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.VerbsTimeoutException;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * An rdma_cm event channel created by DiSNI ({@code RdmaEventChannel}) and the identifiers created on it.
 *
 * <p>Events are taken with DiSNI's {@code getCmEvent(0)}, which polls the descriptor, reads the event and
 * acknowledges it at once (so the private data and status are gone), by {@link #pump()}: from the device thread
 * every few milliseconds and from {@link #pollEvent()}. Each is handed to its identifier and queued for the
 * caller. {@link #fd()} is a level-triggered epoll set of the real rdma_cm descriptor (which DiSNI's
 * {@code getFd()} does not give, see {@link DisniNative}) and an eventfd that is signalled while the queue is not
 * empty; the queue also carries the events the provider makes (handshake timeouts, names that do not resolve).
 */
final class DisniEventChannel implements CmEventChannel {

    private static final Logger LOG = Logger.getLogger(DisniEventChannel.class.getName());

    private final DisniDevice device;
    private final RdmaEventChannel channel;
    private final Epoll epoll;
    private final EventFd provided;
    private final ConcurrentLinkedQueue<CmEvent> providedEvents = new ConcurrentLinkedQueue<>();
    private final Object pumpLock = new Object();
    private final Map<Long, DisniCmId> ids = new ConcurrentHashMap<>();
    private boolean closed;

    private DisniEventChannel(DisniDevice device, RdmaEventChannel channel, Epoll epoll, EventFd provided) {
        this.device = device;
        this.channel = channel;
        this.epoll = epoll;
        this.provided = provided;
    }

    static DisniEventChannel create(DisniDevice device) throws VerbsException {
        RdmaEventChannel channel = null;
        Epoll epoll = null;
        EventFd provided = null;
        boolean success = false;
        try {
            channel = RdmaEventChannel.createEventChannel();
            int cmFd = DisniNative.eventChannelFd(((NatObject) channel).getObjId());
            epoll = Epoll.open();
            provided = EventFd.open();
            epoll.add(cmFd, Epoll.EPOLLIN, 0);
            epoll.add(provided.fd(), Epoll.EPOLLIN, 1);
            DisniEventChannel created = new DisniEventChannel(device, channel, epoll, provided);
            success = true;
            return created;
        } catch (IOException e) {
            throw new VerbsException("rdma_create_event_channel: " + e.getMessage(), e);
        } finally {
            if (!success) {
                if (epoll != null) {
                    epoll.close();
                }
                if (provided != null) {
                    provided.close();
                }
                if (channel != null) {
                    try {
                        channel.destroyEventChannel();
                    } catch (IOException e) {
                        LOG.log(Level.FINE, "rdma_destroy_event_channel failed", e);
                    }
                }
            }
        }
    }

    DisniDevice device() {
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
            try {
                DisniCmId created = register(channel.createId(RdmaCm.RDMA_PS_TCP), DisniCmId.State.IDLE);
                created.applyProviderOptions();
                return created;
            } catch (IOException e) {
                throw new VerbsException("rdma_create_id: " + e.getMessage(), e);
            }
        }
    }

    private DisniCmId register(RdmaCmId id, DisniCmId.State state) {
        DisniCmId created = new DisniCmId(this, id, state);
        ids.put(created.pointer(), created);
        return created;
    }

    void forget(DisniCmId id) {
        ids.remove(id.pointer());
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

    /** Drains every pending DiSNI event into the queue; a no-op once closed. */
    void pump() throws VerbsException {
        synchronized (pumpLock) {
            for (;;) {
                if (closed) {
                    return;
                }
                RdmaCmEvent event;
                try {
                    event = channel.getCmEvent(0);
                } catch (IOException e) {
                    throw new VerbsException("rdma_get_cm_event: " + e.getMessage(), e);
                }
                if (event == null) {
                    return;
                }
                CmEvent translated = dispatch(event);
                if (translated != null) {
                    provide(translated);
                }
            }
        }
    }

    private CmEvent dispatch(RdmaCmEvent event) {
        int type = event.getEvent();
        RdmaCmId connId = event.getConnIdPriv();
        if (connId == null) {
            return null;
        }
        DisniCmId id;
        DisniCmId listenId = null;
        if (type == RdmaCmEvent.EventType.RDMA_CM_EVENT_CONNECT_REQUEST.ordinal()) {
            RdmaCmId listening = event.getListenIdPriv();
            listenId = listening == null ? null : ids.get(((NatObject) listening).getObjId());
            id = register(connId, DisniCmId.State.CONNECT_REQUESTED);
            id.applyProviderOptions();
        } else {
            id = ids.get(((NatObject) connId).getObjId());
        }
        return id == null ? null : id.onEvent(type, listenId);
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
        List<DisniCmId> open;
        synchronized (pumpLock) {
            if (closed) {
                return;
            }
            closed = true;
            open = new ArrayList<>(ids.values());
        }
        // Connections before listeners, so a listener's destroy does not race with the connections it spawned.
        open.sort((a, b) -> Boolean.compare(a.isListening(), b.isListening()));
        for (DisniCmId id : open) {
            id.close();
        }
        try {
            channel.destroyEventChannel();
        } catch (IOException e) {
            LOG.log(Level.FINE, "rdma_destroy_event_channel failed", e);
        }
        epoll.close();
        provided.close();
        device.forget(this);
    }
}
