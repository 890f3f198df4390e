package io.livemig.benchmarks.verbs;

import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.CmEvent;
import io.livemig.transport.rdma.verbs.CmEventChannel;
import io.livemig.transport.rdma.verbs.CmEventType;
import io.livemig.transport.rdma.verbs.CmId;
import io.livemig.transport.rdma.verbs.CompletionChannel;
import io.livemig.transport.rdma.verbs.CompletionQueue;
import io.livemig.transport.rdma.verbs.ConnectionParameters;
import io.livemig.transport.rdma.verbs.DeviceContext;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import io.livemig.transport.rdma.verbs.ProtectionDomain;
import io.livemig.transport.rdma.verbs.QpInitAttributes;
import io.livemig.transport.rdma.verbs.QueuePair;
import io.livemig.transport.rdma.verbs.ScatterGatherElement;
import io.livemig.transport.rdma.verbs.SendWorkRequest;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.WcStatus;
import io.livemig.transport.rdma.verbs.WorkCompletion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * Two connected devices with a registered source region on the client and a remotely writable target region on the
 * server, connected through the verbs SPI exactly as the migration engine will (rdma_cm handshake, separate CQs).
 */
final class VerbsPair implements AutoCloseable {

    private static final Duration WAIT = Duration.ofSeconds(30);

    private final DeviceContext clientDevice;
    private final DeviceContext serverDevice;
    private final Arena arena = Arena.ofShared();
    private final CompletionChannel channel;
    private final CompletionQueue sendCq;
    private final QueuePair qp;
    private final MemoryRegion source;
    private final MemoryRegion target;
    private final WorkCompletion[] slots = WorkCompletion.array(32);

    VerbsPair(DeviceContext clientDevice, DeviceContext serverDevice, long regionSize) throws VerbsException {
        this.clientDevice = clientDevice;
        this.serverDevice = serverDevice;
        ProtectionDomain clientPd = clientDevice.allocateProtectionDomain();
        ProtectionDomain serverPd = serverDevice.allocateProtectionDomain();
        channel = clientDevice.createCompletionChannel();
        sendCq = clientDevice.createCompletionQueue(1024, channel);
        CompletionQueue clientReceiveCq = clientDevice.createCompletionQueue(1024, null);
        CompletionQueue serverSendCq = serverDevice.createCompletionQueue(1024, null);
        CompletionQueue serverReceiveCq = serverDevice.createCompletionQueue(1024, null);
        CmEventChannel serverEvents = serverDevice.createEventChannel();
        CmEventChannel clientEvents = clientDevice.createEventChannel();

        CmId listenId = serverEvents.createId();
        listenId.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4);
        CmId clientId = clientEvents.createId();
        clientId.resolveAddress(listenId.localAddress(), WAIT);
        expect(clientEvents, CmEventType.ADDR_RESOLVED);
        clientId.resolveRoute(WAIT);
        expect(clientEvents, CmEventType.ROUTE_RESOLVED);
        qp = clientId.createQueuePair(clientPd, QpInitAttributes.of(sendCq, clientReceiveCq, 256, 16));
        clientId.connect(ConnectionParameters.of(new byte[8]));
        CmId serverId = expect(serverEvents, CmEventType.CONNECT_REQUEST).id();
        serverId.createQueuePair(serverPd, QpInitAttributes.of(serverSendCq, serverReceiveCq, 16, 16));
        serverId.accept(ConnectionParameters.of(new byte[8]));
        expect(clientEvents, CmEventType.ESTABLISHED);
        expect(serverEvents, CmEventType.ESTABLISHED);

        source = clientPd.register(arena.allocate(regionSize, 4096), Set.of(AccessFlag.LOCAL_WRITE));
        target = serverPd.register(arena.allocate(regionSize, 4096),
                Set.of(AccessFlag.LOCAL_WRITE, AccessFlag.REMOTE_WRITE));
        source.segment().fill((byte) 0x5A);
    }

    private static CmEvent expect(CmEventChannel events, CmEventType type) throws VerbsException {
        CmEvent event = events.awaitEvent(WAIT);
        if (event.type() != type) {
            throw new VerbsException("expected " + type + ", got " + event);
        }
        return event;
    }

    MemorySegment target() {
        return target.segment();
    }

    /**
     * Writes {@code count} times the whole source region into the target (all unsignaled but the last, as a
     * streaming writer would), then waits for the last completion: RC completes in order, so all are placed.
     */
    void writeAll(int count) throws VerbsException {
        int length = (int) source.length();
        List<ScatterGatherElement> sge = List.of(ScatterGatherElement.of(source, 0, length));
        for (int i = 0; i < count; i++) {
            SendWorkRequest write = SendWorkRequest.rdmaWrite(i, sge, target.address(), target.rkey());
            qp.postSend(i == count - 1 ? write : write.unsignaled());
        }
        awaitOne();
    }

    private void awaitOne() throws VerbsException {
        while (true) {
            int polled = sendCq.poll(slots);
            if (polled == 0) {
                sendCq.requestNotification(false);
                polled = sendCq.poll(slots);
                if (polled == 0) {
                    channel.awaitEvent(WAIT);
                    continue;
                }
            }
            if (slots[0].status() != WcStatus.SUCCESS) {
                throw new VerbsException("RDMA WRITE failed: " + slots[0]);
            }
            return;
        }
    }

    @Override
    public void close() {
        clientDevice.close();
        serverDevice.close();
        arena.close();
    }
}
