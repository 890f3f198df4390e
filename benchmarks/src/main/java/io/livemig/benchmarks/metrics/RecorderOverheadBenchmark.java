package io.livemig.benchmarks.metrics;

import io.livemig.metrics.LivemigMetrics;
import io.livemig.migration.observe.MigrationRecorder;
import io.livemig.transport.rdma.observe.TransportRecorder;
import io.livemig.transport.rdma.verbs.WcOpcode;
import io.livemig.transport.rdma.verbs.WcStatus;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the metrics cost on the write path: per 1 MiB RDMA WRITE, the calls the round sender makes
 * ({@code rdmaWritePosted}, {@code rdmaWriteCompleted} with the measured latency) and the ones the event loop
 * makes for its completion ({@code sendQueueOutstanding} up and down, {@code workCompletion}, {@code eventLoopRun}),
 * with {@link LivemigMetrics} on a Prometheus registry against {@link MigrationRecorder#NOOP} /
 * {@link TransportRecorder#NOOP} in the same run.
 *
 * <ul>
 *   <li>{@code writeOneMiB}: the calls around a 1 MiB memory copy, which is what the soft provider does for the WRITE
 *       (the fastest a real WRITE completes here): writes per second, the figure the target (under 5% of throughput)
 *       is about;</li>
 *   <li>{@code recordOnly}: the calls alone, nanoseconds per write.</li>
 * </ul>
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar RecorderOverhead -f 1 -wi 2 -i 3}
 */
@State(Scope.Thread)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class RecorderOverheadBenchmark {

    private static final int MIB = 1 << 20;

    /** Which recorder: the no-op defaults, or the Micrometer binder. */
    @Param({"noop", "micrometer"})
    public String recorder;

    private MigrationRecorder migration;
    private TransportRecorder transport;
    private PrometheusMeterRegistry registry;
    private Arena arena;
    private MemorySegment source;
    private MemorySegment target;

    /** Builds the recorder and touches the memory once. */
    @Setup(Level.Trial)
    public void setUp() {
        if (recorder.equals("micrometer")) {
            registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            LivemigMetrics metrics = new LivemigMetrics();
            metrics.bindTo(registry);
            migration = metrics;
            transport = metrics.transportRecorder();
        } else {
            migration = MigrationRecorder.NOOP;
            transport = TransportRecorder.NOOP;
        }
        arena = Arena.ofShared();
        source = arena.allocate(MIB, 4096);
        target = arena.allocate(MIB, 4096);
        source.fill((byte) 7);
    }

    /** Frees the memory and the registry. */
    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
        if (registry != null) {
            registry.close();
        }
    }

    /**
     * One 1 MiB write as the source performs it, with its metrics calls.
     *
     * @return a byte of the target, so the copy is not dead code
     */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public byte writeOneMiB() {
        long posted = System.nanoTime();
        migration.rdmaWritePosted(MIB);
        transport.sendQueueOutstanding(1);
        MemorySegment.copy(source, 0, target, 0, MIB);
        transport.eventLoopRun(false);
        transport.workCompletion(WcOpcode.RDMA_WRITE, WcStatus.SUCCESS);
        transport.sendQueueOutstanding(-1);
        migration.rdmaWriteCompleted(System.nanoTime() - posted);
        return target.get(ValueLayout.JAVA_BYTE, MIB - 1);
    }

    /** The metrics calls of one write, without the write. */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public void recordOnly() {
        long posted = System.nanoTime();
        migration.rdmaWritePosted(MIB);
        transport.sendQueueOutstanding(1);
        transport.eventLoopRun(false);
        transport.workCompletion(WcOpcode.RDMA_WRITE, WcStatus.SUCCESS);
        transport.sendQueueOutstanding(-1);
        migration.rdmaWriteCompleted(System.nanoTime() - posted);
    }
}
