package io.livemig.transport.rdma.verbs.soft;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.transport.rdma.verbs.CmId;
import io.livemig.transport.rdma.verbs.conformance.ProviderFixture;
import io.livemig.transport.rdma.verbs.conformance.Side;
import io.livemig.transport.rdma.verbs.conformance.VerbsConformanceBase;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Strangers on a soft TCP listener: headers are checked before anything is allocated for them, and connections
 * that never send their REQ are bounded by the listen backlog.
 */
class TcpHostilePeerTest extends VerbsConformanceBase {

    private static final int MAGIC = 0x4C4D5243;

    private final List<SocketChannel> strangers = new ArrayList<>();
    private final List<Throwable> uncaught = new CopyOnWriteArrayList<>();
    private Thread.UncaughtExceptionHandler previousHandler;

    @Override
    protected ProviderFixture fixture() {
        return SoftFixtures.TCP;
    }

    @BeforeEach
    void recordUncaughtExceptions() {
        previousHandler = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((thread, error) -> uncaught.add(error));
    }

    @AfterEach
    void closeStrangers() throws IOException {
        Thread.setDefaultUncaughtExceptionHandler(previousHandler);
        for (SocketChannel stranger : strangers) {
            stranger.close();
        }
    }

    /** A CM header (kind 0, REQ) with the given payload length and magic. */
    private static ByteBuffer cmHeader(int payloadLength, int magic) {
        ByteBuffer header = ByteBuffer.allocate(FrameCodec.HEADER_BYTES);
        header.put(0, (byte) 0).put(1, (byte) 0).putInt(4, payloadLength).putInt(44, magic);
        return header;
    }

    @ParameterizedTest(name = "payload length {0}")
    @ValueSource(ints = {Integer.MAX_VALUE, -1, 57})
    void aCmHeaderClaimingMoreThanThePrivateDataLimitClosesTheConnectionWithoutAllocating(int length)
            throws Exception {
        CmId listening = listen(8);
        for (int magic : new int[] {MAGIC, 0x12345678}) {
            SocketChannel stranger = connectTo(listening.localAddress());
            stranger.write(cmHeader(length, magic));
            assertThat(readUntilClosed(stranger)).as("bytes the listener sent back").isZero();
        }
        // The wire reports itself down just after closing its socket.
        long deadline = System.nanoTime() + Side.WAIT.toNanos();
        while (((SoftCmId) listening).awaitingRequest() > 0 && System.nanoTime() < deadline && pause()) {
            // waiting
        }
        assertThat(((SoftCmId) listening).awaitingRequest()).isZero();
        assertThat(uncaught).isEmpty();
    }

    @Test
    void connectionsThatNeverSendTheirRequestAreBoundedByTheBacklog() throws Exception {
        CmId listening = listen(4);
        List<SocketChannel> idle = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            idle.add(connectTo(listening.localAddress()));
        }
        // The eight oldest are dropped as newer ones arrive; the four newest wait for their REQ (until the 10 s handshake timeout).
        long deadline = System.nanoTime() + Side.WAIT.toNanos();
        int closed;
        do {
            closed = 0;
            for (SocketChannel channel : idle) {
                closed += isClosedByPeer(channel) ? 1 : 0;
            }
            // The newest is counted just after the oldest is shed: wait for both ends of that step.
        } while ((closed < 8 || ((SoftCmId) listening).awaitingRequest() != 4) && System.nanoTime() < deadline
                && pause());
        assertThat(closed).isEqualTo(8);
        assertThat(((SoftCmId) listening).awaitingRequest()).isEqualTo(4);
    }

    private CmId listen(int backlog) throws Exception {
        Side server = newSide();
        CmId id = server.events().createId();
        id.listen(SoftFixtures.loopback(0), backlog);
        return id;
    }

    private SocketChannel connectTo(InetSocketAddress address) throws IOException {
        SocketChannel channel = SocketChannel.open(address);
        strangers.add(channel);
        return channel;
    }

    /** Reads until the peer closes; returns how many bytes came. Bounded by the socket's read timeout. */
    private static long readUntilClosed(SocketChannel channel) throws IOException {
        channel.socket().setSoTimeout((int) Side.WAIT.toMillis());
        ByteBuffer buffer = ByteBuffer.allocate(1024);
        long total = 0;
        try (var in = channel.socket().getInputStream()) {
            int n;
            while ((n = in.read(buffer.array())) >= 0) {
                total += n;
            }
        } catch (java.net.SocketException reset) {
            // A reset is a close too.
        }
        return total;
    }

    private static boolean isClosedByPeer(SocketChannel channel) throws IOException {
        channel.configureBlocking(false);
        try {
            return channel.read(ByteBuffer.allocate(1)) < 0;
        } catch (java.net.SocketException reset) {
            return true;
        }
    }

    private static boolean pause() {
        Thread.onSpinWait();
        try {
            Thread.sleep(20);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        return true;
    }
}
