package io.livemig.transport.rdma.verbs.soft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.CmEventType;
import io.livemig.transport.rdma.verbs.DeviceContext;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import io.livemig.transport.rdma.verbs.QpState;
import io.livemig.transport.rdma.verbs.ScatterGatherElement;
import io.livemig.transport.rdma.verbs.SendWorkRequest;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.conformance.ProviderFixture;
import io.livemig.transport.rdma.verbs.conformance.VerbsConformanceBase;
import io.livemig.transport.rdma.verbs.conformance.Wc;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * A TCP link cut without a reset (a dropped route, a firewall rule that drops packets): the socket accepts bytes
 * until its buffers fill, then the fabric's writer thread blocks in a write that TCP retries for many minutes. The
 * requester's retries run out long before that; the requests it fails must not keep their memory pinned.
 */
class TcpLinkCutTest extends VerbsConformanceBase {

    private static final Set<AccessFlag> LOCAL = Set.of(AccessFlag.LOCAL_WRITE);
    private static final Set<AccessFlag> REMOTE = Set.of(AccessFlag.LOCAL_WRITE, AccessFlag.REMOTE_WRITE);
    /** Far more than loopback's socket buffers (a few MiB each way) absorb: the writer must block. */
    private static final int WRITES = 32;
    private static final int WRITE_BYTES = 2 << 20;

    private final List<TcpFabric> fabrics = new CopyOnWriteArrayList<>();
    private final Blackhole link = new Blackhole();

    /** The TCP fabric with a 50 ms ACK timeout, so that QEMU's 5 retries run out in a fraction of a second. */
    private final ProviderFixture fixture = new ProviderFixture() {
        @Override
        public DeviceContext openDevice() throws VerbsException {
            TcpFabric fabric = new TcpFabric(Duration.ofMillis(50));
            fabrics.add(fabric);
            return new SoftVerbsProvider().open(fabric);
        }

        @Override
        public InetSocketAddress listenAddress() {
            return SoftFixtures.loopback(0);
        }

        @Override
        public InetSocketAddress addressNobodyListensOn() throws IOException {
            return SoftFixtures.freeTcpPort();
        }

        @Override
        public void close() {
            link.close();
            fabrics.forEach(TcpFabric::close);
        }
    };

    @Override
    protected ProviderFixture fixture() {
        return fixture;
    }

    @Override
    protected InetSocketAddress dialAddress(InetSocketAddress listening) throws VerbsException {
        try {
            return link.relayTo(listening);
        } catch (IOException e) {
            throw new VerbsException("cannot start the relay: " + e.getMessage(), e);
        }
    }

    @Test
    void requestsFailedByExhaustedRetriesReleaseTheirMemoryAndTheConnectionReportsTheDeadPath() throws Exception {
        Connection c = connect();
        MemoryRegion target = c.server().register(arena, (long) WRITES * WRITE_BYTES, REMOTE);
        MemoryRegion source = c.client().register(arena, (long) WRITES * WRITE_BYTES, LOCAL);
        c.client().qp().postSend(write(0, source, target, 4096));
        assertThat(c.client().await(c.client().sendCq(), 1)).extracting(Wc::idAndStatus).containsExactly("0:SUCCESS");

        link.cut();
        for (int i = 1; i <= WRITES; i++) {
            c.client().qp().postSend(write(i, source, target, WRITE_BYTES));
        }

        List<Wc> failed = c.client().await(c.client().sendCq(), WRITES);
        assertThat(failed.getFirst().idAndStatus()).isEqualTo("1:RETRY_EXC_ERR");
        assertThat(failed.subList(1, WRITES)).extracting(Wc::status).containsOnly(
                io.livemig.transport.rdma.verbs.WcStatus.WR_FLUSH_ERR);
        assertThat(c.client().qp().state()).isEqualTo(QpState.ERR);
        // The requests are finished, so their memory may go. Without the fix this waits for the writer thread, stuck
        // in the socket write for as long as TCP retries (about 15 minutes with Linux's tcp_retries2): a hang guard.
        assertTimeoutPreemptively(Duration.ofSeconds(30), source::deregister);
        assertThat(source.isRegistered()).isFalse();
        awaitEvent(c.client(), CmEventType.DISCONNECTED);
    }

    private static SendWorkRequest write(long id, MemoryRegion source, MemoryRegion target, int length) {
        long offset = id == 0 ? 0 : (id - 1) * WRITE_BYTES;
        return SendWorkRequest.rdmaWrite(id, List.of(ScatterGatherElement.of(source, offset, length)),
                target.address() + offset, target.rkey());
    }

    /**
     * A TCP relay in front of the listener whose {@link #cut()} stops moving bytes in both directions while keeping
     * every socket open: what a dropped route looks like to both ends (no FIN, no RST).
     */
    private static final class Blackhole implements AutoCloseable {

        private final List<java.nio.channels.Channel> channels = new CopyOnWriteArrayList<>();
        private final CountDownLatch closed = new CountDownLatch(1);
        private volatile boolean cut;

        InetSocketAddress relayTo(InetSocketAddress target) throws IOException {
            ServerSocketChannel server = ServerSocketChannel.open().bind(SoftFixtures.loopback(0));
            channels.add(server);
            start("relay-accept", () -> {
                try {
                    while (true) {
                        SocketChannel inbound = server.accept();
                        SocketChannel outbound = SocketChannel.open(target);
                        channels.add(inbound);
                        channels.add(outbound);
                        start("relay-up", () -> pump(inbound, outbound));
                        start("relay-down", () -> pump(outbound, inbound));
                    }
                } catch (IOException e) {
                    // Closed with the test.
                }
            });
            return (InetSocketAddress) server.getLocalAddress();
        }

        void cut() {
            cut = true;
        }

        private void pump(SocketChannel from, SocketChannel to) {
            ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
            try {
                while (from.read(buffer.clear()) >= 0) {
                    if (cut) {
                        // The link is gone: these bytes are lost, the next ones stay in the kernel's buffers.
                        closed.await();
                        return;
                    }
                    buffer.flip();
                    while (buffer.hasRemaining()) {
                        to.write(buffer);
                    }
                }
            } catch (IOException | InterruptedException e) {
                // Closed with the test.
            }
        }

        private static void start(String name, Runnable task) {
            Thread thread = new Thread(task, name);
            thread.setDaemon(true);
            thread.start();
        }

        @Override
        public void close() {
            closed.countDown();
            for (java.nio.channels.Channel channel : channels) {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // Best effort: the test is over.
                }
            }
        }
    }
}
