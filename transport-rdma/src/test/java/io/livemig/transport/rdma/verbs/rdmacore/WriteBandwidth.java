package io.livemig.transport.rdma.verbs.rdmacore;

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
import io.livemig.transport.rdma.verbs.Verbs;
import io.livemig.transport.rdma.verbs.WcStatus;
import io.livemig.transport.rdma.verbs.WorkCompletion;
import java.lang.foreign.Arena;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * RDMA WRITE bandwidth of the verbs provider, measured the way {@code ib_write_bw -s SIZE -t DEPTH -D SECONDS}
 * measures it: both ends in one process on one device (loopback), {@code DEPTH} writes in flight, each completion
 * reposted at once, busy polling, and a warm-up excluded from the figure (perftest's {@code --margin}, 2 s by
 * default; here it also lets the JIT compile the data path). Run in the rxe lab next to ib_write_bw; see
 * docs/verbs-provider.md.
 *
 * <p>Usage: {@code WriteBandwidth [size=1048576] [depth=16] [seconds=5] [warmupSeconds=2]}. System property
 * {@value #PROVIDER_PROPERTY} picks another provider by name ({@code disni}: docs/disni-provider.md); both ends
 * listen and connect on the verbs tests' address.
 */
public final class WriteBandwidth {

    /** System property naming the provider to measure (default {@code verbs}). */
    public static final String PROVIDER_PROPERTY = "livemig.bench.provider";

    private WriteBandwidth() {
    }

    /**
     * Runs the measurement and prints one line.
     *
     * @param args size, depth, seconds
     * @throws Exception when a step fails
     */
    public static void main(String[] args) throws Exception {
        int size = args.length > 0 ? Integer.parseInt(args[0]) : 1 << 20;
        int depth = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        int warmup = args.length > 3 ? Integer.parseInt(args[3]) : 2;
        Duration wait = Duration.ofSeconds(30);
        String provider = System.getProperty(PROVIDER_PROPERTY, RdmaCoreVerbsProvider.NAME);
        try (Arena arena = Arena.ofShared();
             DeviceContext server = Verbs.provider(provider).open();
             DeviceContext client = Verbs.provider(provider).open()) {
            ProtectionDomain serverPd = server.allocateProtectionDomain();
            CompletionQueue serverCq = server.createCompletionQueue(depth * 2, null);
            CmEventChannel serverEvents = server.createEventChannel();
            ProtectionDomain clientPd = client.allocateProtectionDomain();
            CompletionChannel clientChannel = client.createCompletionChannel();
            CompletionQueue clientCq = client.createCompletionQueue(depth * 2, clientChannel);
            CmEventChannel clientEvents = client.createEventChannel();

            CmId listen = serverEvents.createId();
            listen.listen(RdmaCoreFixtures.listenAddress(), 4);
            CmId id = clientEvents.createId();
            id.resolveAddress(listen.localAddress(), wait);
            expect(clientEvents.awaitEvent(wait), CmEventType.ADDR_RESOLVED);
            id.resolveRoute(wait);
            expect(clientEvents.awaitEvent(wait), CmEventType.ROUTE_RESOLVED);
            QueuePair qp = id.createQueuePair(clientPd, QpInitAttributes.of(clientCq, clientCq, depth, 4));
            ConnectionParameters parameters = ConnectionParameters.of(new byte[8]).withTimeout(wait);
            id.connect(parameters);
            CmEvent request = expect(serverEvents.awaitEvent(wait), CmEventType.CONNECT_REQUEST);
            request.id().createQueuePair(serverPd, QpInitAttributes.of(serverCq, serverCq, 4, 4));
            request.id().accept(parameters);
            expect(clientEvents.awaitEvent(wait), CmEventType.ESTABLISHED);
            expect(serverEvents.awaitEvent(wait), CmEventType.ESTABLISHED);

            MemoryRegion target = serverPd.register(arena.allocate(size, 4096),
                    Set.of(AccessFlag.LOCAL_WRITE, AccessFlag.REMOTE_WRITE));
            MemoryRegion source = clientPd.register(arena.allocate(size, 4096), Set.of(AccessFlag.LOCAL_WRITE));
            SendWorkRequest write = SendWorkRequest.rdmaWrite(1, List.of(ScatterGatherElement.of(source, 0, size)),
                    target.address(), target.rkey());
            WorkCompletion[] completions = WorkCompletion.array(depth);

            for (int i = 0; i < depth; i++) {
                qp.postSend(write);
            }
            long start = System.nanoTime() + Duration.ofSeconds(warmup).toNanos();
            long end = start + Duration.ofSeconds(seconds).toNanos();
            long completed = 0;
            int inFlight = depth;
            while (inFlight > 0) {
                int n = clientCq.poll(completions);
                long now = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    if (completions[i].status() != WcStatus.SUCCESS) {
                        throw new IllegalStateException("write failed: " + completions[i]);
                    }
                    if (now - start >= 0) {
                        completed++;
                    }
                    inFlight--;
                    if (System.nanoTime() < end) {
                        qp.postSend(write);
                        inFlight++;
                    }
                }
            }
            double elapsed = (System.nanoTime() - start) / 1e9; // includes draining the last DEPTH writes
            double bytes = (double) completed * size;
            // Both units: perftest's "MB/sec" is MiB/s (2^20), its --report_gbits is 10^9 bit/s.
            System.out.printf(provider + " provider RDMA WRITE: size=%d depth=%d iterations=%d time=%.2fs "
                    + "bandwidth=%.2f MiB/s = %.2f MB/s = %.3f Gb/s%n", size, depth, completed, elapsed,
                    bytes / elapsed / (1 << 20), bytes / elapsed / 1e6, bytes * 8 / elapsed / 1e9);
            id.disconnect();
        }
    }

    private static CmEvent expect(CmEvent event, CmEventType type) {
        if (event.type() != type) {
            throw new IllegalStateException("expected " + type + ", got " + event);
        }
        return event;
    }
}
