package io.livemig.migration.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.Compress;
import io.livemig.migration.protocol.ControlMessage;
import io.livemig.migration.protocol.ControlType;
import io.livemig.migration.protocol.RegisterRequest;
import io.livemig.migration.protocol.RegisterResult;
import io.livemig.migration.protocol.RemoteBlock;
import io.livemig.migration.stream.MigrationStreamReader;
import io.livemig.migration.stream.MigrationStreamWriter;
import io.livemig.migration.stream.RamPhase;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The control plane of a migration (stream, credits, exchanges) between two threads over real,
 * asynchronous Netty channels (the in-VM local transport stands in for the RDMA channel's SEND/RECV),
 * checked against the message order of spec section 9.2.
 */
class ControlPlaneOverLocalChannelTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final List<BlockListEntry> BLOCKS = List.of(new BlockListEntry("pc.ram", 2 << 20),
            new BlockListEntry("vga", 1 << 20));

    private LocalControlPlane plane;
    private final List<String> transcript = Collections.synchronizedList(new ArrayList<>());

    @BeforeEach
    void start() throws InterruptedException {
        plane = new LocalControlPlane("control-plane-test", () -> List.of(new Recorder()));
    }

    @AfterEach
    void stop() throws InterruptedException {
        plane.close();
    }

    @Test
    void migrationControlPlaneFollowsSection92() throws Exception {
        SourceControl source = new SourceControl();
        Channel sourceChannel = plane.connect(source);
        DestinationControl destination = plane.accepted();

        List<String> events = Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Void> loaded = CompletableFuture.runAsync(() -> load(destination, events));
        runSource(source, sourceChannel.alloc());
        loaded.get(30, TimeUnit.SECONDS);
        sourceChannel.close().sync();

        assertThat(events).containsExactly("blocks 2", "hook SETUP", "hook ROUND", "hook FINISH",
                "state livemig-app [42, 43]");
        assertThat(transcript).containsExactly(
                // setup: the reader pulls the stream up to the HOOK
                "dst->src READY", "src->dst QEMU FILE",
                // registration loop of the setup phase
                "dst->src READY", "src->dst RAM BLOCKS REQUEST", "dst->src RAM BLOCKS RESULT",
                "dst->src READY", "src->dst REGISTER FINISHED",
                // EOS of setup, then the round's PART header and HOOK
                "dst->src READY", "src->dst QEMU FILE",
                // a round: COMPRESS, one registration, REGISTER FINISHED
                "dst->src READY", "src->dst COMPRESS",
                "dst->src READY", "src->dst REGISTER REQUEST", "dst->src REGISTER RESULT",
                "dst->src READY", "src->dst REGISTER FINISHED",
                // EOS of the round and the final part's HOOK
                "dst->src READY", "src->dst QEMU FILE",
                "dst->src READY", "src->dst REGISTER FINISHED",
                // EOS, the non-live state and EOF
                "dst->src READY", "src->dst QEMU FILE");
    }

    private static void runSource(SourceControl control, ByteBufAllocator alloc) throws IOException {
        QemuFileOutput file = new QemuFileOutput(control, alloc);
        DataOutputStream out = file.stream();
        MigrationStreamWriter writer = new MigrationStreamWriter(out);
        writer.writeHeader();
        writer.beginRamSetup(BLOCKS);
        file.flush().block(TIMEOUT);
        ControlMessage result = control.exchange(ControlMessage.ramBlocksRequest()).block(TIMEOUT);
        assertThat(result.remoteBlocks()).hasSize(2);
        result.release();
        control.send(ControlMessage.registerFinished()).block(TIMEOUT);
        writer.endRamPart();

        writer.beginRamRound();
        file.flush().block(TIMEOUT);
        control.send(ControlMessage.compress(Compress.zero(1, 0x200000, 4096))).block(TIMEOUT);
        ControlMessage registered = control.exchange(
                ControlMessage.registerRequest(List.of(new RegisterRequest(0, 0, 0)))).block(TIMEOUT);
        assertThat(registered.registerResults().getFirst().rkey()).isEqualTo(0x77);
        registered.release();
        control.send(ControlMessage.registerFinished()).block(TIMEOUT);
        writer.endRamPart();

        writer.beginRamFinish();
        file.flush().block(TIMEOUT);
        control.send(ControlMessage.registerFinished()).block(TIMEOUT);
        writer.endRamPart();
        writer.writeFullSection("livemig-app", 0, 1, new byte[] {42, 43});
        writer.writeEof();
        file.flush().block(TIMEOUT);
        assertThat(file.bytesSent()).isPositive();
    }

    private static void load(DestinationControl control, List<String> events) {
        try (PullingInput file = new PullingInput(control)) {
            new MigrationStreamReader(new DataInputStream(file), 1 << 20).readAll(new MigrationStreamReader.Listener() {
                @Override
                public void ramBlockList(List<BlockListEntry> blocks) {
                    events.add("blocks " + blocks.size());
                }

                @Override
                public void ramHook(RamPhase phase) {
                    events.add("hook " + phase);
                    assertThat(file.isDrained()).isTrue();
                    registrationLoop(control);
                }

                @Override
                public void fullSection(String idstr, int instanceId, int versionId, byte[] state) {
                    events.add("state " + idstr + " " + java.util.Arrays.toString(state));
                }
            });
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * The stream as QEMU's destination reads it (spec section 8.2): only when the last QEMU FILE payload is
     * used up does it send READY and wait for the next one. Blocking, as the test's load thread may be.
     */
    private static final class PullingInput extends java.io.InputStream {
        private final DestinationControl control;
        private ControlMessage held;

        PullingInput(DestinationControl control) {
            this.control = control;
        }

        @Override
        public int read() {
            return data().readUnsignedByte();
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (len == 0) {
                return 0;
            }
            io.netty.buffer.ByteBuf data = data();
            int n = Math.min(len, data.readableBytes());
            data.readBytes(b, off, n);
            return n;
        }

        boolean isDrained() {
            return held == null || !held.data().isReadable();
        }

        private io.netty.buffer.ByteBuf data() {
            if (held != null && held.data().isReadable()) {
                return held.data();
            }
            close();
            held = control.receive(ControlType.QEMU_FILE).block(TIMEOUT);
            return held.data();
        }

        @Override
        public void close() {
            if (held != null) {
                held.release();
                held = null;
            }
        }
    }

    /** QEMU's qemu_rdma_registration_handle, reduced to answering what the test sends. */
    private static void registrationLoop(DestinationControl control) {
        while (true) {
            ControlMessage message = control.receive(ControlType.NONE).block(TIMEOUT);
            try {
                switch (message.type()) {
                    case RAM_BLOCKS_REQUEST -> control.respond(ControlMessage.ramBlocksResult(List.of(
                            new RemoteBlock(0x7f0000000000L, 0, 2 << 20, 0),
                            new RemoteBlock(0x7f0000200000L, 2 << 20, 1 << 20, 0)))).block(TIMEOUT);
                    case REGISTER_REQUEST -> control.respond(ControlMessage.registerResult(
                            List.of(new RegisterResult(0x77, 0x7f0000000000L)))).block(TIMEOUT);
                    case COMPRESS -> {
                    }
                    case REGISTER_FINISHED -> {
                        return;
                    }
                    default -> throw new AssertionError("unexpected " + message);
                }
            } finally {
                message.release();
            }
        }
    }

    /** Records every SEND crossing the destination's pipeline. */
    private final class Recorder extends ChannelDuplexHandler {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            transcript.add("src->dst " + ControlType.fromValue(((ByteBuf) msg).getInt(4)).displayName());
            ctx.fireChannelRead(msg);
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            transcript.add("dst->src " + ControlType.fromValue(((ByteBuf) msg).getInt(4)).displayName());
            ctx.write(msg, promise);
        }
    }
}
