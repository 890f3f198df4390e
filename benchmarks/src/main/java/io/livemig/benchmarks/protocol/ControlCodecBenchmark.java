package io.livemig.benchmarks.protocol;

import io.livemig.migration.protocol.ControlDecoder;
import io.livemig.migration.protocol.ControlMessage;
import io.livemig.migration.protocol.RegisterRequest;
import io.livemig.migration.protocol.RemoteBlock;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Cost of the control codec on the messages that dominate a migration (REGISTER REQUEST on the
 * destination, RAM BLOCKS RESULT once per migration), against a baseline in the same run: copying the
 * same number of bytes between two direct buffers, the least any codec must do.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED -jar benchmarks/target/benchmarks.jar ControlCodec}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class ControlCodecBenchmark {

    private ByteBuf registerRequestWire;
    private ByteBuf ramBlocksWire;
    private ByteBuf scratch;
    private ControlMessage registerRequest;

    /** Encodes the messages once. */
    @Setup(Level.Trial)
    public void setUp() {
        registerRequest = ControlMessage.registerRequest(List.of(new RegisterRequest(0x345000, 0, 0)));
        registerRequestWire = PooledByteBufAllocator.DEFAULT.directBuffer(registerRequest.encodedLength());
        registerRequest.encode(registerRequestWire);

        List<RemoteBlock> blocks = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            blocks.add(new RemoteBlock(0x7f0000000000L + ((long) i << 30), (long) i << 30, 1L << 30, i + 1));
        }
        ControlMessage result = ControlMessage.ramBlocksResult(blocks);
        ramBlocksWire = PooledByteBufAllocator.DEFAULT.directBuffer(result.encodedLength());
        result.encode(ramBlocksWire);
        result.release();

        scratch = PooledByteBufAllocator.DEFAULT.directBuffer(ramBlocksWire.readableBytes());
    }

    /** Frees the buffers. */
    @TearDown(Level.Trial)
    public void tearDown() {
        registerRequestWire.release();
        ramBlocksWire.release();
        scratch.release();
        registerRequest.release();
    }

    /** Baseline: copy the 40 bytes of a REGISTER REQUEST. */
    @Benchmark
    public int copyRegisterRequestBytes() {
        scratch.clear().writeBytes(registerRequestWire, 0, registerRequestWire.writerIndex());
        return scratch.writerIndex();
    }

    /** Encode one REGISTER REQUEST into a send slot. */
    @Benchmark
    public int encodeRegisterRequest() {
        scratch.clear();
        registerRequest.encode(scratch);
        return scratch.writerIndex();
    }

    /** Decode and validate one REGISTER REQUEST as a destination. */
    @Benchmark
    public long decodeRegisterRequest() {
        ControlMessage message = ControlDecoder.forDestination().decode(registerRequestWire.duplicate());
        long key = message.registerRequests().getFirst().key();
        message.release();
        return key;
    }

    /** Baseline: copy the 32,016 bytes of a 1000-block RAM BLOCKS RESULT. */
    @Benchmark
    public int copyRamBlocksResultBytes() {
        scratch.clear().writeBytes(ramBlocksWire, 0, ramBlocksWire.writerIndex());
        return scratch.writerIndex();
    }

    /** Decode and validate a 1000-block RAM BLOCKS RESULT as a source. */
    @Benchmark
    public int decodeRamBlocksResult() {
        ControlMessage message = ControlDecoder.forSource().decode(ramBlocksWire.duplicate());
        int n = message.remoteBlocks().size();
        message.release();
        return n;
    }
}
