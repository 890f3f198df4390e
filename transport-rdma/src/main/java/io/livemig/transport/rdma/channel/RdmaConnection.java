package io.livemig.transport.rdma.channel;

import io.livemig.transport.rdma.observe.TransportRecorder;
import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.CmId;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import io.livemig.transport.rdma.verbs.QueuePair;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.netty.channel.IoRegistration;
import java.lang.foreign.MemorySegment;
import java.util.Set;

/**
 * Everything one {@link RdmaChannel} owns below Netty: its reference to the endpoint (device and rdma_cm event
 * channel), its {@link ConnectionResources}, its connection identifier with the queue pair, and the send and receive
 * queues with their credits. It is the single owner of these and destroys them, once, in the order verbs needs:
 * queue pair, completion queue, completion channel, memory regions, protection domain, connection identifier, then
 * the endpoint reference.
 */
final class RdmaConnection {

    private final RdmaEndpoint endpoint;
    private final ConnectionResources resources;
    private CmId cmId;
    private TransportRecorder recorder = TransportRecorder.NOOP;
    private Credits credits;
    private SendQueue sendQueue;
    private ReceiveQueue receiveQueue;
    private boolean destroyed;

    private RdmaConnection(RdmaEndpoint endpoint, ConnectionResources resources, CmId cmId) {
        this.endpoint = endpoint;
        this.resources = resources;
        this.cmId = cmId;
    }

    /**
     * Creates the connection's resources on the endpoint's device; on success the connection owns the endpoint
     * reference and the identifier, on failure the caller still does.
     */
    static RdmaConnection open(RdmaEndpoint endpoint, CmId cmId, RdmaChannelConfig config) throws VerbsException {
        return new RdmaConnection(endpoint, ConnectionResources.open(endpoint.device(), config), cmId);
    }

    /** As {@link #open}, in the protection domain of {@code sharing} (same endpoint's device). */
    static RdmaConnection openSharing(RdmaEndpoint endpoint, CmId cmId, RdmaChannelConfig config,
            RdmaConnection sharing) throws VerbsException {
        return new RdmaConnection(endpoint,
                ConnectionResources.openSharing(endpoint.device(), config, sharing.resources), cmId);
    }

    RdmaEndpoint endpoint() {
        return endpoint;
    }

    ConnectionResources resources() {
        return resources;
    }

    CmId cmId() {
        return cmId;
    }

    /** Creates the client's identifier on the endpoint's event channel. */
    CmId createId() throws VerbsException {
        cmId = endpoint.events().createId();
        return cmId;
    }

    QueuePair queuePair() {
        return cmId == null ? null : cmId.queuePair();
    }

    Credits credits() {
        return credits;
    }

    /** Where this connection's work requests are reported: its event loop's recorder once the queue pair exists. */
    TransportRecorder recorder() {
        return recorder;
    }

    SendQueue sendQueue() {
        return sendQueue;
    }

    ReceiveQueue receiveQueue() {
        return receiveQueue;
    }

    /** Creates the queue pair and posts the whole receive ring, before connect or accept. */
    void createQueuePair(IoRegistration registration, RdmaChannelConfig config) throws VerbsException {
        cmId.createQueuePair(resources.pd(), resources.queuePairAttributes(config));
        recorder = RdmaIoHandler.recorderOf(registration);
        credits = new Credits(config.isCreditFlowControl(), config.getReceiveBufferCount());
        sendQueue = new SendQueue(registration, recorder, resources.sendRing(), resources::regionContaining, credits,
                config.getSendQueueDepth(), config.getMaxInline());
        receiveQueue = new ReceiveQueue(registration, recorder, resources.receiveRing(), credits);
        receiveQueue.postAll();
    }

    MemoryRegion register(MemorySegment memory, Set<AccessFlag> access) throws VerbsException {
        return resources.register(memory, access);
    }

    /**
     * Stops the connection: nothing is delivered or posted any more, and the queue pair moves to ERR so every posted
     * request completes with a flush. A connect request never answered (no queue pair) is rejected instead.
     */
    void stop() {
        if (receiveQueue != null) {
            receiveQueue.close();
        }
        if (cmId == null) {
            return;
        }
        if (cmId.queuePair() == null) {
            try {
                cmId.reject(new byte[0]);
            } catch (VerbsException e) {
                // Not a connect request, or already answered: closing the identifier is all that is left.
            }
        } else {
            cmId.disconnect();
        }
    }

    /** Destroys everything, once; only when no posted request can complete any more. */
    void destroy() {
        if (destroyed) {
            return;
        }
        destroyed = true;
        // Requests whose completion never came (a broken queue, a drain that timed out) leave the recorder's levels.
        if (sendQueue != null && sendQueue.outstanding() > 0) {
            recorder.sendQueueOutstanding(-sendQueue.outstanding());
        }
        if (receiveQueue != null && receiveQueue.posted() > 0) {
            recorder.receiveCredits(-receiveQueue.posted());
        }
        QueuePair qp = queuePair();
        if (qp != null) {
            qp.close();
        }
        resources.close();
        if (cmId != null) {
            cmId.close();
        }
        endpoint.release();
    }
}
