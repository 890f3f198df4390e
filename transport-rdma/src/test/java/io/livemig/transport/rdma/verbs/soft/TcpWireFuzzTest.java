package io.livemig.transport.rdma.verbs.soft;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.livemig.testing.FuzzInputs;
import io.livemig.transport.rdma.verbs.SendOpcode;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Coverage-guided fuzzing of {@link TcpWire}'s read loop over a real loopback connection: a stranger connects, sends
 * the input and closes its side. The wire must deliver exactly the frames a reference reading of the input finds
 * (headers checked by {@link FrameCodec#check} before anything is allocated for them, payloads skipped), then report
 * itself down once, "connection closed by peer" when the input ended on a frame boundary and "connection failed: ..."
 * otherwise, within seconds, with no exception escaping its threads.
 *
 * <p>A socket, two threads and a handshake per input make this the slowest target; docs/fuzzing.md has its figures.
 */
class TcpWireFuzzTest {

    private static final long WAIT_SECONDS = 5;
    private static final List<Throwable> UNCAUGHT = new CopyOnWriteArrayList<>();
    private static ServerSocketChannel listener;
    private static Thread.UncaughtExceptionHandler previousHandler;

    @BeforeAll
    static void listen() throws IOException {
        listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        previousHandler = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((thread, error) -> UNCAUGHT.add(error));
    }

    @AfterAll
    static void close() throws IOException {
        Thread.setDefaultUncaughtExceptionHandler(previousHandler);
        listener.close();
    }

    @Test
    void aCmHeaderWhosePrivateDataNeverComesIsAFailureNotACleanClose() throws Exception {
        // Found by fuzzing: the read loop took the end of input right after such a header for a clean close.
        byte[] header = Arrays.copyOf(frames(new Frame.CmMessage(Frame.CmMessageType.REQ, 0, 0, 0, new byte[8])),
                FrameCodec.HEADER_BYTES);
        assertThat(exchange(header).reasons).containsExactly("connection failed: connection closed inside a frame");
    }

    @FuzzTest
    void readLoop(byte[] input) throws Exception {
        Expected expected = expected(input);
        Received received = exchange(input);
        assertThat(UNCAUGHT).as("exceptions escaping the wire's threads").isEmpty();
        assertThat(received.reasons).hasSize(1);
        if (expected.endsOnBoundary) {
            assertThat(received.reasons.getFirst()).isEqualTo("connection closed by peer");
        } else {
            assertThat(received.reasons.getFirst()).startsWith("connection failed: ");
        }
        assertThat(received.frames).hasSameSizeAs(expected.frames);
        for (int i = 0; i < expected.frames.size(); i++) {
            assertSameFrame(received.frames.get(i), expected.frames.get(i));
        }
    }

    /** A stranger connects, sends the input and closes its side; returns once the wire reported itself down. */
    private static Received exchange(byte[] input) throws Exception {
        Received received = new Received();
        try (SocketChannel stranger = SocketChannel.open(listener.getLocalAddress())) {
            TcpWire wire = new TcpWire(listener.accept());
            wire.start(received);
            stranger.write(ByteBuffer.wrap(input));
            stranger.shutdownOutput();
            assertThat(received.down.await(WAIT_SECONDS, TimeUnit.SECONDS)).as("wire reported down").isTrue();
        }
        return received;
    }

    @Test
    void seedsAreFramesTheEncoderProduces() {
        FuzzInputs.check(getClass(), "readLoop", seeds());
    }

    /** A CM handshake as a connecting peer sends it, a request with its payload, responses, and a mix. */
    static Map<String, byte[]> seeds() {
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        byte[] capabilities = {0, 0, 0, 1, 0, 0, 0, 1};
        seeds.put("cm-req", frames(new Frame.CmMessage(Frame.CmMessageType.REQ, 7, 0x1234, 0, capabilities)));
        seeds.put("cm-rtu-dreq", frames(Frame.CmMessage.of(Frame.CmMessageType.RTU),
                Frame.CmMessage.of(Frame.CmMessageType.DREQ)));
        seeds.put("send-with-payload", frames(new Frame.RcRequest(SendOpcode.SEND, 1, 0, 0, 16, 0)));
        seeds.put("write-read-ack-nak", frames(new Frame.RcRequest(SendOpcode.RDMA_WRITE, 2, 0x7F0000001000L, 0x42, 8, 0),
                new Frame.RcRequest(SendOpcode.RDMA_READ, 3, 0x7F0000002000L, 0x43, 4096, 0),
                Frame.RcResponse.ack(2), Frame.RcResponse.nak(3, Frame.NakCode.REMOTE_ACCESS_ERROR),
                new Frame.RcResponse(Frame.ResponseKind.READ_RESPONSE, 3, null, 4)));
        return seeds;
    }

    /** The frames' headers, each followed by its payload (private data, or bytes counting up). */
    static byte[] frames(Frame... frames) {
        ByteBuffer out = ByteBuffer.allocate(4096);
        ByteBuffer header = ByteBuffer.allocate(FrameCodec.HEADER_BYTES);
        for (Frame frame : frames) {
            FrameCodec.encode(frame, header);
            out.put(header);
            if (frame instanceof Frame.CmMessage cm) {
                out.put(cm.privateData());
            } else {
                for (int i = 0; i < frame.payloadLength(); i++) {
                    out.put((byte) i);
                }
            }
        }
        return Arrays.copyOf(out.array(), out.position());
    }

    /** What the wire should deliver: the input read as the protocol says, independently of the read loop. */
    private static Expected expected(byte[] input) {
        List<Frame> frames = new ArrayList<>();
        int at = 0;
        while (at < input.length) {
            if (input.length - at < FrameCodec.HEADER_BYTES) {
                return new Expected(frames, false);
            }
            ByteBuffer header = ByteBuffer.wrap(Arrays.copyOfRange(input, at, at + FrameCodec.HEADER_BYTES));
            at += FrameCodec.HEADER_BYTES;
            long payload = Integer.toUnsignedLong(FrameCodec.payloadLength(header));
            try {
                FrameCodec.check(header);
                byte[] privateData = null;
                if (FrameCodec.isCm(header)) {
                    if (input.length - at < payload) {
                        return new Expected(frames, false);
                    }
                    privateData = Arrays.copyOfRange(input, at, at + (int) payload);
                }
                frames.add(FrameCodec.decode(header, privateData));
            } catch (ProtocolException refused) {
                return new Expected(frames, false);
            } catch (IOException e) {
                throw new AssertionError(e);
            }
            if (input.length - at < payload) {
                return new Expected(frames, false);
            }
            at += (int) payload;
        }
        return new Expected(frames, true);
    }

    private record Expected(List<Frame> frames, boolean endsOnBoundary) {
    }

    private static void assertSameFrame(Frame actual, Frame expected) {
        if (expected instanceof Frame.CmMessage cm) {
            assertThat(actual).isInstanceOfSatisfying(Frame.CmMessage.class, m -> {
                assertThat(m.type()).isEqualTo(cm.type());
                assertThat(m.qpNumber()).isEqualTo(cm.qpNumber());
                assertThat(m.initialPsn()).isEqualTo(cm.initialPsn());
                assertThat(m.status()).isEqualTo(cm.status());
                assertThat(m.privateData()).isEqualTo(cm.privateData());
            });
        } else {
            assertThat(actual).isEqualTo(expected);
        }
    }

    /** Takes part of each payload into memory, as a responder placing a SEND does, and leaves the rest to the wire. */
    private static final class Received implements Wire.WireHandler {

        final List<Frame> frames = new ArrayList<>();
        final List<String> reasons = new CopyOnWriteArrayList<>();
        final CountDownLatch down = new CountDownLatch(1);

        @Override
        public void onFrame(Frame frame, Payload payload) {
            frames.add(frame);
            long part = Math.min(payload.remaining(), 64) / 2;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment target = arena.allocate(Math.max(part, 1)).asSlice(0, part);
                payload.placeInto(target);
            } catch (IOException e) {
                // The stranger closed inside the payload: the wire reports it next.
            }
        }

        @Override
        public void onWireDown(String reason) {
            reasons.add(reason);
            down.countDown();
        }
    }
}
