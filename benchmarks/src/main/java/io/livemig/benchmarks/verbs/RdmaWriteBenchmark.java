package io.livemig.benchmarks.verbs;

import io.livemig.transport.rdma.verbs.Verbs;
import io.livemig.transport.rdma.verbs.soft.InJvmFabric;
import io.livemig.transport.rdma.verbs.soft.SoftVerbsProvider;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Throughput of 1 MiB RDMA WRITEs through the soft provider, with two baselines measured in the same run: a plain
 * loopback TCP copy of 1 MiB between native buffers, and a plain {@link MemorySegment#copy} of 1 MiB. Every
 * operation moves 1 MiB, so the reported ops/s read directly as MiB/s.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -jar benchmarks/target/benchmarks.jar RdmaWrite -f 1 -wi 2 -i 3</pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class RdmaWriteBenchmark {

    /** One MiB: QEMU's largest RDMA WRITE (one registration chunk). */
    static final int MIB = 1 << 20;
    /** Writes per invocation: a pipeline of unsignaled WRITEs closed by one signaled WRITE. */
    static final int BATCH = 16;

    /** A connection over the soft provider's TCP fabric on loopback. */
    @State(Scope.Benchmark)
    public static class TcpFabricState {
        VerbsPair pair;

        /** Connects. */
        @Setup(Level.Trial)
        public void setUp() throws IOException {
            pair = new VerbsPair(Verbs.provider("soft").open(), Verbs.provider("soft").open(), MIB);
        }

        /** Disconnects. */
        @TearDown(Level.Trial)
        public void tearDown() {
            pair.close();
        }
    }

    /** A connection over the soft provider's in-JVM fabric. */
    @State(Scope.Benchmark)
    public static class InJvmFabricState {
        InJvmFabric fabric;
        VerbsPair pair;

        /** Connects. */
        @Setup(Level.Trial)
        public void setUp() throws IOException {
            fabric = new InJvmFabric();
            SoftVerbsProvider provider = new SoftVerbsProvider();
            pair = new VerbsPair(provider.open(fabric), provider.open(fabric), MIB);
        }

        /** Disconnects. */
        @TearDown(Level.Trial)
        public void tearDown() {
            pair.close();
            fabric.close();
        }
    }

    /**
     * A plain loopback TCP connection; a receiver thread reads every byte into a 1 MiB native buffer and answers
     * one byte per batch, the TCP analogue of the signaled WRITE's completion.
     */
    @State(Scope.Benchmark)
    public static class TcpLoopbackState {
        Arena arena;
        SocketChannel sender;
        SocketChannel receiver;
        Thread receiverThread;
        ByteBuffer source;
        ByteBuffer ack;

        /** Connects and starts the receiver. */
        @Setup(Level.Trial)
        public void setUp() throws IOException {
            arena = Arena.ofShared();
            source = arena.allocate(MIB, 4096).fill((byte) 0x5A).asByteBuffer();
            ByteBuffer target = arena.allocate(MIB, 4096).asByteBuffer();
            ack = ByteBuffer.allocateDirect(1);
            try (ServerSocketChannel server = ServerSocketChannel.open()) {
                server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                sender = SocketChannel.open(server.getLocalAddress());
                receiver = server.accept();
            }
            sender.setOption(StandardSocketOptions.TCP_NODELAY, true);
            receiver.setOption(StandardSocketOptions.TCP_NODELAY, true);
            receiverThread = Thread.ofPlatform().daemon().name("tcp-baseline-receiver").start(() -> receive(target));
        }

        private void receive(ByteBuffer target) {
            ByteBuffer reply = ByteBuffer.allocateDirect(1);
            long pending = 0;
            try {
                while (true) {
                    target.clear();
                    int read = receiver.read(target);
                    if (read < 0) {
                        return;
                    }
                    pending += read;
                    while (pending >= (long) BATCH * MIB) {
                        pending -= (long) BATCH * MIB;
                        reply.clear();
                        receiver.write(reply);
                    }
                }
            } catch (IOException e) {
                // closed by tearDown
            }
        }

        /** Closes both ends; the receiver thread ends on EOF. */
        @TearDown(Level.Trial)
        public void tearDown() throws Exception {
            sender.close();
            receiverThread.join(5_000);
            receiver.close();
            arena.close();
        }
    }

    /** Two 1 MiB native segments. */
    @State(Scope.Benchmark)
    public static class CopyState {
        Arena arena;
        MemorySegment source;
        MemorySegment target;

        /** Allocates (and so pre-faults) both segments. */
        @Setup(Level.Trial)
        public void setUp() {
            arena = Arena.ofShared();
            source = arena.allocate(MIB, 4096).fill((byte) 0x5A);
            target = arena.allocate(MIB, 4096);
        }

        /** Frees both. */
        @TearDown(Level.Trial)
        public void tearDown() {
            arena.close();
        }
    }

    /**
     * 1 MiB RDMA WRITEs over the soft TCP fabric on loopback.
     *
     * @param state the connection
     * @throws IOException when a WRITE fails
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void rdmaWriteTcpFabric(TcpFabricState state) throws IOException {
        state.pair.writeAll(BATCH);
    }

    /**
     * 1 MiB RDMA WRITEs over the in-JVM fabric.
     *
     * @param state the connection
     * @throws IOException when a WRITE fails
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void rdmaWriteInJvmFabric(InJvmFabricState state) throws IOException {
        state.pair.writeAll(BATCH);
    }

    /**
     * Baseline: 1 MiB through a plain loopback TCP connection, native buffer to native buffer.
     *
     * @param state the connection
     * @throws IOException when the connection fails
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void baselineTcpLoopbackCopy(TcpLoopbackState state) throws IOException {
        for (int i = 0; i < BATCH; i++) {
            state.source.clear();
            while (state.source.hasRemaining()) {
                state.sender.write(state.source);
            }
        }
        state.ack.clear();
        while (state.ack.hasRemaining()) {
            if (state.sender.read(state.ack) < 0) {
                throw new IOException("receiver closed");
            }
        }
    }

    /**
     * Baseline: a 1 MiB {@link MemorySegment#copy}.
     *
     * @param state the segments
     * @return the target, so the copy is not eliminated
     */
    @Benchmark
    public MemorySegment baselineMemorySegmentCopy(CopyState state) {
        MemorySegment.copy(state.source, 0, state.target, 0, MIB);
        return state.target;
    }
}
