package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.unix.EventFd;
import io.livemig.transport.rdma.unix.NativeIoException;
import io.livemig.transport.rdma.verbs.CmEvent;
import io.livemig.transport.rdma.verbs.CmEventChannel;
import io.livemig.transport.rdma.verbs.CmId;
import io.livemig.transport.rdma.verbs.InvalidStateException;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.VerbsTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** A soft rdma_cm event channel: an eventfd-backed event queue and the identifiers created on it. */
final class SoftCmEventChannel implements CmEventChannel {

    private final SoftDevice device;
    private final EventSignal<CmEvent> events;
    private final Set<SoftCmId> ids = ConcurrentHashMap.newKeySet();

    SoftCmEventChannel(SoftDevice device) throws NativeIoException {
        this.device = device;
        this.events = new EventSignal<>(EventFd.open());
    }

    @Override
    public int fd() {
        return events.fd();
    }

    @Override
    public CmId createId() throws VerbsException {
        if (events.isClosed()) {
            throw new InvalidStateException("rdma_create_id: event channel is closed");
        }
        SoftCmId id = new SoftCmId(device, this);
        ids.add(id);
        return id;
    }

    /** Registers an identifier created by the provider (the new id of a CONNECT_REQUEST). */
    void adopt(SoftCmId id) {
        ids.add(id);
    }

    void forget(SoftCmId id) {
        ids.remove(id);
    }

    void emit(CmEvent event) {
        events.add(event);
    }

    @Override
    public CmEvent pollEvent() throws VerbsException {
        if (events.isClosed()) {
            throw new InvalidStateException("rdma_get_cm_event: event channel is closed");
        }
        return events.poll();
    }

    @Override
    public CmEvent awaitEvent(Duration timeout) throws VerbsException {
        CmEvent event = events.await(timeout, "rdma_get_cm_event");
        if (event == null) {
            throw new VerbsTimeoutException("rdma_get_cm_event: no event within " + timeout);
        }
        return event;
    }

    @Override
    public void close() {
        if (events.isClosed()) {
            return;
        }
        for (SoftCmId id : new ArrayList<>(ids)) {
            id.close();
        }
        if (events.close()) {
            device.forget(this);
        }
    }
}
