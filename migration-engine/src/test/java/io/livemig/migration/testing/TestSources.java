package io.livemig.migration.testing;

import io.livemig.migration.control.SourceControl;
import io.livemig.migration.api.SourcePipeline;
import io.livemig.migration.api.Workload;
import io.livemig.migration.observe.MigrationRecorder;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.source.RdmaDataPath;
import io.livemig.migration.source.RoundStats;
import io.livemig.migration.source.SourceOptions;
import io.livemig.migration.status.MigrationTracker;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/** Builds {@link SourcePipeline}s for tests and runs them to their end with a tracker (tests may block). */
public final class TestSources {

    /** Unlimited bandwidth, QEMU's other defaults. */
    public static final MigrationParameters FAST = MigrationParameters.DEFAULTS.withMaxBandwidth(0);

    private TestSources() {
    }

    /**
     * Options for a test migration.
     *
     * @param pinAll pin-all
     * @param parameters parameters (read live)
     * @param timeout step timeout
     * @return the options
     */
    public static SourceOptions options(boolean pinAll, Supplier<MigrationParameters> parameters, Duration timeout) {
        return new SourceOptions(pinAll, PooledByteBufAllocator.DEFAULT, timeout, 16, parameters, false, false,
                Schedulers.parallel(), MigrationRecorder.NOOP, SourceOptions.DEFAULT_REGISTRATION_BATCH, true);
    }

    /**
     * Runs a migration to its end.
     *
     * @param control source control
     * @param data data path
     * @param blocks RAM
     * @param options options
     * @param workload the application
     * @return the rounds
     * @throws IOException as {@link SourcePipeline#run} does
     */
    public static List<RoundStats> run(SourceControl control, RdmaDataPath data, RamBlocks blocks,
            SourceOptions options, Workload workload) throws IOException {
        return run(control, data, blocks, options, workload, new SourcePipeline.Events() {
        });
    }

    /**
     * Runs a migration to its end, telling {@code events} of its rounds and status changes.
     *
     * @param control source control
     * @param data data path
     * @param blocks RAM
     * @param options options
     * @param workload the application
     * @param events told of each round's end and each status
     * @return the rounds
     * @throws IOException as {@link SourcePipeline#run} does
     */
    public static List<RoundStats> run(SourceControl control, RdmaDataPath data, RamBlocks blocks,
            SourceOptions options, Workload workload, SourcePipeline.Events events) throws IOException {
        MigrationTracker tracker = new MigrationTracker();
        tracker.start(blocks.totalBytes());
        try {
            return new SourcePipeline(control, data, blocks, options).run(workload, tracker, events).block();
        } catch (RuntimeException e) {
            if (reactor.core.Exceptions.unwrap(e) instanceof IOException io) {
                throw io;
            }
            throw e;
        }
    }

    /**
     * A workload whose pause runs {@code pause} and whose state is {@code state}.
     *
     * @param pause blocks until the application stopped writing
     * @param state the non-live state
     * @return the workload
     */
    public static Workload workload(Runnable pause, byte[] state) {
        return new Workload() {
            @Override
            public Mono<Void> pause() {
                return Mono.fromRunnable(pause);
            }

            @Override
            public byte[] saveState() {
                return state;
            }
        };
    }
}
