package io.livemig.transport.rdma.channel;

import io.livemig.transport.rdma.verbs.CmEventChannel;
import io.livemig.transport.rdma.verbs.DeviceContext;
import io.livemig.transport.rdma.verbs.VerbsException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A device and its rdma_cm event channel, shared by a server channel and the children it accepted (the SPI cannot
 * move a connection identifier to another event channel, as {@code rdma_migrate_id} would). Reference-counted: the
 * last {@link #release()} closes the event channel, then the device.
 */
final class RdmaEndpoint {

    private final DeviceContext device;
    private final CmEventChannel events;
    private final AtomicInteger references = new AtomicInteger(1);

    private RdmaEndpoint(DeviceContext device, CmEventChannel events) {
        this.device = device;
        this.events = events;
    }

    /** Opens a device and an event channel, all or nothing; the caller holds the first reference. */
    static RdmaEndpoint open(RdmaDeviceFactory factory) throws VerbsException {
        DeviceContext device = factory.open();
        boolean success = false;
        try {
            RdmaEndpoint endpoint = new RdmaEndpoint(device, device.createEventChannel());
            success = true;
            return endpoint;
        } finally {
            if (!success) {
                device.close();
            }
        }
    }

    DeviceContext device() {
        return device;
    }

    CmEventChannel events() {
        return events;
    }

    RdmaEndpoint retain() {
        int previous = references.getAndIncrement();
        if (previous <= 0) {
            references.getAndDecrement();
            throw new IllegalStateException("endpoint already released");
        }
        return this;
    }

    void release() {
        if (references.decrementAndGet() == 0) {
            events.close();
            device.close();
        }
    }
}
