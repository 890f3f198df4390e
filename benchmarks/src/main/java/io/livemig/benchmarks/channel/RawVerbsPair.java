package io.livemig.benchmarks.channel;

import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.CmEvent;
import io.livemig.transport.rdma.verbs.CmEventChannel;
import io.livemig.transport.rdma.verbs.CmEventType;
import io.livemig.transport.rdma.verbs.CmId;
import io.livemig.transport.rdma.verbs.CompletionQueue;
import io.livemig.transport.rdma.verbs.ConnectionParameters;
import io.livemig.transport.rdma.verbs.DeviceContext;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import io.livemig.transport.rdma.verbs.ProtectionDomain;
import io.livemig.transport.rdma.verbs.QpInitAttributes;
import io.livemig.transport.rdma.verbs.QueuePair;
import io.livemig.transport.rdma.verbs.ReceiveWorkRequest;
import io.livemig.transport.rdma.verbs.ScatterGatherElement;
import io.livemig.transport.rdma.verbs.SendWorkRequest;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.WcStatus;
import io.livemig.transport.rdma.verbs.WorkCompletion;
import java.lang.foreign.Arena;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * The raw-verbs baseline of {@link ChannelBenchmark}: two queue pairs connected through the SPI, driven by the
 * benchmark thread alone (post, then busy-poll the completion queues), with no event loop, pipeline or flow control
 * in between. Receives are re-posted as they complete, as the channel does.
 */
final class RawVerbsPair implements AutoCloseable {

    private static final Duration WAIT = Duration.ofSeconds(30);

    private final DeviceContext clientDevice;
    private final DeviceContext serverDevice;
    private final Arena arena = Arena.ofShared();
    private final CompletionQueue clientSendCq;
    private final CompletionQueue serverReceiveCq;
    private final QueuePair clientQp;
    private final QueuePair serverQp;
    private final MemoryRegion sendSlots;
    private final MemoryRegion receiveSlots;
    private final MemoryRegion source;
    private final MemoryRegion target;
    private final int slotSize;
    private final int depth;
    private final WorkCompletion[] completions = WorkCompletion.array(64);

    RawVerbsPair(DeviceContext clientDevice, DeviceContext serverDevice, int depth, int slotSize, int regionSize)
            throws VerbsException {
        this.clientDevice = clientDevice;
        this.serverDevice = serverDevice;
        this.depth = depth;
        this.slotSize = slotSize;
        ProtectionDomain clientPd = clientDevice.allocateProtectionDomain();
        ProtectionDomain serverPd = serverDevice.allocateProtectionDomain();
        clientSendCq = clientDevice.createCompletionQueue(depth * 2, null);
        CompletionQueue clientReceiveCq = clientDevice.createCompletionQueue(depth, null);
        CompletionQueue serverSendCq = serverDevice.createCompletionQueue(depth, null);
        serverReceiveCq = serverDevice.createCompletionQueue(depth * 2, null);
        CmEventChannel serverEvents = serverDevice.createEventChannel();
        CmEventChannel clientEvents = clientDevice.createEventChannel();

        CmId listenId = serverEvents.createId();
        listenId.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4);
        CmId clientId = clientEvents.createId();
        clientId.resolveAddress(listenId.localAddress(), WAIT);
        expect(clientEvents, CmEventType.ADDR_RESOLVED);
        clientId.resolveRoute(WAIT);
        expect(clientEvents, CmEventType.ROUTE_RESOLVED);
        clientQp = clientId.createQueuePair(clientPd, QpInitAttributes.of(clientSendCq, clientReceiveCq, depth, 4));
        clientId.connect(ConnectionParameters.of(new byte[0]));
        CmId serverId = expect(serverEvents, CmEventType.CONNECT_REQUEST).id();
        serverQp = serverId.createQueuePair(serverPd, QpInitAttributes.of(serverSendCq, serverReceiveCq, 4, depth));

        sendSlots = clientPd.register(arena.allocate((long) depth * slotSize, 4096), Set.of());
        receiveSlots = serverPd.register(arena.allocate((long) depth * slotSize, 4096),
                Set.of(AccessFlag.LOCAL_WRITE));
        source = clientPd.register(arena.allocate(regionSize, 4096).fill((byte) 0x5A), Set.of());
        target = serverPd.register(arena.allocate(regionSize, 4096),
                Set.of(AccessFlag.LOCAL_WRITE, AccessFlag.REMOTE_WRITE));
        for (int slot = 0; slot < depth; slot++) {
            postReceive(slot);
        }
        serverId.accept(ConnectionParameters.of(new byte[0]));
        expect(clientEvents, CmEventType.ESTABLISHED);
        expect(serverEvents, CmEventType.ESTABLISHED);
    }

    private static CmEvent expect(CmEventChannel events, CmEventType type) throws VerbsException {
        CmEvent event = events.awaitEvent(WAIT);
        if (event.type() != type) {
            throw new VerbsException("expected " + type + ", got " + event);
        }
        return event;
    }

    private void postReceive(int slot) throws VerbsException {
        serverQp.postReceive(ReceiveWorkRequest.of(slot, ScatterGatherElement.of(receiveSlots,
                (long) slot * slotSize, slotSize)));
    }

    /**
     * Posts {@code count} SENDs of {@code size} bytes (at most the receive depth, so none meets an empty receive
     * queue) and waits until the peer received them all and every send completed.
     */
    void sendAll(int count, int size) throws VerbsException {
        for (int i = 0; i < count; i++) {
            clientQp.postSend(SendWorkRequest.send(i, List.of(ScatterGatherElement.of(sendSlots,
                    (long) i * slotSize, size))));
        }
        int received = 0;
        int sent = 0;
        while (received < count || sent < count) {
            int polled = serverReceiveCq.poll(completions);
            for (int i = 0; i < polled; i++) {
                check(completions[i]);
                postReceive((int) completions[i].wrId());
            }
            received += polled;
            polled = clientSendCq.poll(completions);
            for (int i = 0; i < polled; i++) {
                check(completions[i]);
            }
            sent += polled;
        }
    }

    /** Posts {@code count} signaled WRITEs of the whole source region and waits for their completions. */
    void writeAll(int count) throws VerbsException {
        List<ScatterGatherElement> sge = List.of(ScatterGatherElement.of(source, 0, (int) source.length()));
        for (int i = 0; i < count; i++) {
            clientQp.postSend(SendWorkRequest.rdmaWrite(i, sge, target.address(), target.rkey()));
        }
        int done = 0;
        while (done < count) {
            int polled = clientSendCq.poll(completions);
            for (int i = 0; i < polled; i++) {
                check(completions[i]);
            }
            done += polled;
        }
    }

    private static void check(WorkCompletion wc) throws VerbsException {
        if (wc.status() != WcStatus.SUCCESS) {
            throw new VerbsException("work request failed: " + wc);
        }
    }

    int depth() {
        return depth;
    }

    @Override
    public void close() {
        clientDevice.close();
        serverDevice.close();
        arena.close();
    }
}
