package io.livemig.benchmarks.channel;

import io.livemig.transport.rdma.channel.RdmaChannel;
import io.livemig.transport.rdma.channel.RdmaChannelOption;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import io.livemig.transport.rdma.channel.RdmaIoHandler;
import io.livemig.transport.rdma.channel.RdmaServerChannel;
import io.livemig.transport.rdma.channel.RdmaWrite;
import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import io.livemig.transport.rdma.verbs.soft.InJvmFabric;
import io.livemig.transport.rdma.verbs.soft.SoftVerbsProvider;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import java.lang.foreign.Arena;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The Netty RDMA channel against raw verbs, measured in the same run on the same soft fabric: SEND message rate
 * (64-byte messages; ops/s = messages/s) and RDMA WRITE bandwidth (1 MiB writes; ops/s = MiB/s). The raw figures post
 * work requests on the SPI queue pair and busy-poll its completion queues from the benchmark thread; the channel
 * figures go through the pipeline, the send ring copy, credit flow control and the {@link RdmaIoHandler} loop.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -jar benchmarks/target/benchmarks.jar Channel -f 1 -wi 2 -i 3</pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class ChannelBenchmark {

    /** SENDs per invocation; at most the receive window of the raw pair, so the raw side never meets an RNR. */
    static final int SEND_BATCH = 256;
    /** The SEND payload. */
    static final int SEND_SIZE = 64;
    /** WRITEs per invocation. */
    static final int WRITE_BATCH = 16;
    /** One MiB: QEMU's largest RDMA WRITE. */
    static final int MIB = 1 << 20;

    /** Opens devices on the fabric named by the parameter. */
    @State(Scope.Benchmark)
    public static class Fabric {
        /** {@code jvm}: the in-JVM fabric; {@code tcp}: the TCP fabric on loopback. */
        @Param({"jvm", "tcp"})
        public String fabric;
        InJvmFabric inJvm;

        RdmaDeviceFactory devices() {
            if (fabric.equals("jvm")) {
                if (inJvm == null) {
                    inJvm = new InJvmFabric();
                }
                SoftVerbsProvider provider = new SoftVerbsProvider();
                return () -> provider.open(inJvm);
            }
            return RdmaDeviceFactory.named("soft");
        }

        void close() {
            if (inJvm != null) {
                inJvm.close();
                inJvm = null;
            }
        }
    }

    /** A connected pair of channels, the server child counting SENDs and exposing a writable 1 MiB region. */
    @State(Scope.Benchmark)
    public static class ChannelState extends Fabric {
        EventLoopGroup group;
        RdmaServerChannel server;
        RdmaChannel client;
        Sink sink;
        MemoryRegion source;

        /** Connects. */
        @Setup(Level.Trial)
        public void setUp() throws Exception {
            group = new MultiThreadIoEventLoopGroup(2, RdmaIoHandler.newFactory());
            sink = new Sink();
            server = (RdmaServerChannel) new ServerBootstrap().group(group).channel(RdmaServerChannel.class)
                    .option(RdmaChannelOption.PROVIDER, devices())
                    .childHandler(sink)
                    .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
            client = (RdmaChannel) new Bootstrap().group(group).channel(RdmaChannel.class)
                    .option(RdmaChannelOption.PROVIDER, devices())
                    .handler(new ChannelInboundHandlerAdapter())
                    .connect(server.localAddress()).sync().channel();
            sink.target.get(30, TimeUnit.SECONDS);
            source = client.registerMemory(Arena.ofAuto().allocate(MIB, 4096).fill((byte) 0x5A), Set.of());
        }

        /** Closes the channels and the loops. */
        @TearDown(Level.Trial)
        public void tearDown() throws Exception {
            client.close().sync();
            server.close().sync();
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
            close();
        }
    }

    /** Counts SENDs; registers the WRITE target and publishes it when the connection is up. */
    static final class Sink extends ChannelInboundHandlerAdapter {
        final CompletableFuture<MemoryRegion> target = new CompletableFuture<>();
        private long received;
        private volatile long expected = Long.MAX_VALUE;
        private volatile CompletableFuture<Void> reached = new CompletableFuture<>();

        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            target.complete(((RdmaChannel) ctx.channel()).registerMemory(Arena.ofAuto().allocate(MIB, 4096),
                    Set.of(AccessFlag.LOCAL_WRITE, AccessFlag.REMOTE_WRITE)));
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ((ByteBuf) msg).release();
            if (++received >= expected) {
                reached.complete(null);
            }
        }

        /** Arms the next wait; called between invocations, when nothing is in flight. */
        CompletableFuture<Void> expect(long count) {
            CompletableFuture<Void> future = new CompletableFuture<>();
            reached = future;
            expected = received + count;
            return future;
        }
    }

    /** The raw baseline pair. */
    @State(Scope.Benchmark)
    public static class RawState extends Fabric {
        RawVerbsPair pair;

        /** Connects. */
        @Setup(Level.Trial)
        public void setUp() throws Exception {
            RdmaDeviceFactory devices = devices();
            pair = new RawVerbsPair(devices.open(), devices.open(), SEND_BATCH, SEND_SIZE, MIB);
        }

        /** Disconnects. */
        @TearDown(Level.Trial)
        public void tearDown() {
            pair.close();
            close();
        }
    }

    /**
     * 64-byte SENDs through the channel: written and flushed on the client's loop, counted by the server's pipeline.
     *
     * @param state the channels
     * @throws Exception when a wait fails
     */
    @Benchmark
    @OperationsPerInvocation(SEND_BATCH)
    public void channelSend(ChannelState state) throws Exception {
        CompletableFuture<Void> done = state.sink.expect(SEND_BATCH);
        RdmaChannel client = state.client;
        client.eventLoop().execute(() -> {
            for (int i = 0; i < SEND_BATCH; i++) {
                client.write(client.alloc().buffer(SEND_SIZE).writeZero(SEND_SIZE));
            }
            client.flush();
        });
        done.get(30, TimeUnit.SECONDS);
    }

    /**
     * 1 MiB RDMA WRITEs through the channel; each promise completes on its work completion.
     *
     * @param state the channels
     * @throws Exception when a write fails
     */
    @Benchmark
    @OperationsPerInvocation(WRITE_BATCH)
    public void channelWrite(ChannelState state) throws Exception {
        MemoryRegion target = state.sink.target.getNow(null);
        RdmaChannel client = state.client;
        CompletableFuture<ChannelFuture> last = new CompletableFuture<>();
        client.eventLoop().execute(() -> {
            ChannelFuture future = null;
            for (int i = 0; i < WRITE_BATCH; i++) {
                future = client.write(RdmaWrite.of(state.source, 0, MIB, target.address(), target.rkey()));
            }
            client.flush();
            last.complete(future);
        });
        ChannelFuture future = last.get(30, TimeUnit.SECONDS);
        if (!future.await(30, TimeUnit.SECONDS) || !future.isSuccess()) {
            throw new IllegalStateException("RDMA WRITE failed", future.cause());
        }
    }

    /**
     * Baseline: 64-byte SENDs posted and polled on the SPI directly.
     *
     * @param state the raw pair
     * @throws Exception when a SEND fails
     */
    @Benchmark
    @OperationsPerInvocation(SEND_BATCH)
    public void rawVerbsSendForChannel(RawState state) throws Exception {
        state.pair.sendAll(SEND_BATCH, SEND_SIZE);
    }

    /**
     * Baseline: 1 MiB RDMA WRITEs posted and polled on the SPI directly.
     *
     * @param state the raw pair
     * @throws Exception when a WRITE fails
     */
    @Benchmark
    @OperationsPerInvocation(WRITE_BATCH)
    public void rawVerbsWriteForChannel(RawState state) throws Exception {
        state.pair.writeAll(WRITE_BATCH);
    }
}
