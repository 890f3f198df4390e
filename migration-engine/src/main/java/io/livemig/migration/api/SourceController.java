package io.livemig.migration.api;

import io.livemig.migration.observe.MigrationRecorder;
import io.livemig.migration.connection.SourceConnection;
import io.livemig.migration.params.MigrationCapabilities;
import io.livemig.migration.params.MigrationCapability;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.source.MigrationSource;
import io.livemig.migration.source.SourceOptions;
import io.livemig.migration.status.MigrationInfo;
import io.livemig.migration.status.MigrationStatus;
import io.livemig.migration.status.MigrationTracker;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import io.livemig.transport.rdma.channel.RdmaIoHandler;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

/**
 * The source side of livemig as QEMU's monitor sees it: RAM blocks, capabilities, parameters, and at
 * most one outgoing migration at a time ({@code migrate}, {@code migrate_cancel}, {@code query-migrate}).
 * The monitor (HMP/QMP), the command line and embedders drive this class; it owns the event loops it
 * creates (not one handed to it) and never the RAM blocks.
 *
 * <p>Failure and cancellation leave the application running with its memory untouched (the source only
 * reads it), lift any throttle, resume a paused workload, and leave the controller ready for another
 * {@code migrate}.
 */
public final class SourceController implements AutoCloseable {

    /** QEMU's message when {@code migrate} is issued during a migration. */
    public static final String IN_PROGRESS = "There's a migration process in progress";

    private final RamBlocks blocks;
    private final RdmaDeviceFactory devices;
    private final EventLoopGroup group;
    private final boolean ownsGroup;
    private final Workload workload;
    private final Duration timeout;
    private final MigrationRecorder recorder;
    private final AtomicReference<MigrationCapabilities> capabilities =
            new AtomicReference<>(MigrationCapabilities.DEFAULTS);
    private final AtomicReference<MigrationParameters> parameters =
            new AtomicReference<>(MigrationParameters.DEFAULTS);
    private final AtomicReference<MigrationTracker> current = new AtomicReference<>(new MigrationTracker());
    private final AtomicBoolean cancelRequested = new AtomicBoolean();
    private final Sinks.Many<MigrationInfo> statusChanges = Sinks.many().multicast().directBestEffort();
    private final Object lifecycle = new Object();
    private boolean running;
    private volatile FluxSink<MigrationInfo> currentSink;

    private SourceController(Builder builder) {
        this.blocks = Objects.requireNonNull(builder.blocks, "blocks");
        this.devices = Objects.requireNonNull(builder.devices, "devices");
        this.ownsGroup = builder.group == null;
        this.group = ownsGroup ? new MultiThreadIoEventLoopGroup(1,
                RdmaIoHandler.newFactory(RdmaIoHandler.DEFAULT_SPIN_POLLS, builder.recorder.transportRecorder())) : builder.group;
        this.workload = builder.workload;
        this.timeout = builder.timeout;
        this.recorder = builder.recorder;
    }

    /**
     * Starts building a controller for the given RAM.
     *
     * @param blocks the application's RAM blocks, in the order the destination will see them
     * @return a builder
     */
    public static Builder builder(RamBlocks blocks) {
        return new Builder(blocks);
    }

    /** Builds a {@link SourceController}. */
    public static final class Builder {
        private final RamBlocks blocks;
        private RdmaDeviceFactory devices = RdmaDeviceFactory.named("soft");
        private EventLoopGroup group;
        private Workload workload = new Workload() { };
        private Duration timeout = Duration.ofSeconds(60);
        private MigrationRecorder recorder = MigrationRecorder.NOOP;

        private Builder(RamBlocks blocks) {
            this.blocks = blocks;
        }

        /**
         * The RDMA provider (default: the soft provider over TCP).
         *
         * @param devices the provider
         * @return this
         */
        public Builder devices(RdmaDeviceFactory devices) {
            this.devices = Objects.requireNonNull(devices);
            return this;
        }

        /**
         * Event loops of an {@code RdmaIoHandler} to run on (default: one of its own, closed with it).
         *
         * @param group the loops, not owned
         * @return this
         */
        public Builder eventLoopGroup(EventLoopGroup group) {
            this.group = group;
            return this;
        }

        /**
         * The application: pause, resume, throttle, non-live state (default: nothing to pause).
         *
         * @param workload the callbacks
         * @return this
         */
        public Builder workload(Workload workload) {
            this.workload = Objects.requireNonNull(workload);
            return this;
        }

        /**
         * Where metrics go (default: nowhere; the metrics module provides a Micrometer recorder).
         *
         * @param recorder the recorder
         * @return this
         */
        public Builder recorder(MigrationRecorder recorder) {
            this.recorder = Objects.requireNonNull(recorder);
            return this;
        }

        /**
         * How long any one step may wait for the destination (default 60 s).
         *
         * @param timeout the timeout
         * @return this
         */
        public Builder timeout(Duration timeout) {
            this.timeout = Objects.requireNonNull(timeout);
            return this;
        }

        /**
         * Builds the controller.
         *
         * @return the controller
         */
        public SourceController build() {
            return new SourceController(this);
        }
    }

    /**
     * The capabilities the next migration will use.
     *
     * @return the capabilities
     */
    public MigrationCapabilities capabilities() {
        return capabilities.get();
    }

    /**
     * Switches a capability ({@code migrate-set-capabilities}); refused while a migration runs, as QEMU
     * refuses it.
     *
     * @param capability the capability
     * @param on its new state
     * @throws IllegalStateException "There's a migration process in progress"
     */
    public void setCapability(MigrationCapability capability, boolean on) {
        synchronized (lifecycle) {
            if (running) {
                throw new IllegalStateException(IN_PROGRESS);
            }
            capabilities.updateAndGet(c -> c.with(capability, on));
        }
    }

    /**
     * The parameters in force.
     *
     * @return the parameters
     */
    public MigrationParameters parameters() {
        return parameters.get();
    }

    /**
     * Replaces the parameters ({@code migrate-set-parameters}); allowed at any time. A running migration
     * applies the new {@code max-bandwidth}, {@code downtime-limit} and throttle parameters from its next
     * write or round on.
     *
     * @param next the new parameters
     */
    public void setParameters(MigrationParameters next) {
        parameters.set(Objects.requireNonNull(next));
    }

    /**
     * {@code query-migrate}: a snapshot of the current (or last) migration.
     *
     * @return the snapshot
     */
    public MigrationInfo info() {
        return current.get().snapshot();
    }

    /**
     * Every status change of every migration, as it happens (QMP's {@code MIGRATION} event). Hot: a
     * subscriber sees changes after it subscribed.
     *
     * @return snapshots taken at each status change
     */
    public Flux<MigrationInfo> statusChanges() {
        return statusChanges.asFlux();
    }

    /**
     * Starts a migration in the background ({@code migrate -d}); follow it with {@link #info()} or
     * {@link #statusChanges()}.
     *
     * @param uri the destination
     * @throws IllegalStateException "There's a migration process in progress"
     */
    public void start(MigrationUri uri) {
        Objects.requireNonNull(uri, "uri");
        synchronized (lifecycle) {
            if (running) {
                throw new IllegalStateException(IN_PROGRESS);
            }
            running = true;
        }
        migrate(uri, true).subscribe(info -> { }, error -> { });
    }

    /**
     * The migration as a lazy stream of progress: subscribing starts it; it emits a snapshot at every
     * status change and after every round, and completes after the {@code completed} snapshot, or fails
     * with a {@link MigrationFailedException} carrying the final snapshot. Cancelling the subscription
     * cancels the migration. Subscribing while another migration runs fails with
     * {@link IllegalStateException} "There's a migration process in progress".
     *
     * @param uri the destination
     * @return the progress
     */
    public Flux<MigrationInfo> migrate(MigrationUri uri) {
        Objects.requireNonNull(uri, "uri");
        return migrate(uri, false);
    }

    private Flux<MigrationInfo> migrate(MigrationUri uri, boolean claimed) {
        return Flux.create(sink -> {
            if (!claimed) {
                synchronized (lifecycle) {
                    if (running) {
                        sink.error(new IllegalStateException(IN_PROGRESS));
                        return;
                    }
                    running = true;
                }
            }
            cancelRequested.set(false);
            MigrationTracker tracker = new MigrationTracker();
            // In setup before migrate returns, so that a query-migrate right after it never reads the last one.
            tracker.start(blocks.totalBytes());
            current.set(tracker);
            currentSink = sink;
            sink.onCancel(this::cancel);
            Schedulers.boundedElastic().schedule(() -> run(uri, tracker, sink));
        }, FluxSink.OverflowStrategy.LATEST);
    }

    private void run(MigrationUri uri, MigrationTracker tracker, FluxSink<MigrationInfo> sink) {
        MigrationCapabilities caps = capabilities.get();
        MigrationRecorder.Mode mode = caps.isOn(MigrationCapability.RDMA_PIN_ALL) ? MigrationRecorder.Mode.PIN_ALL
                : MigrationRecorder.Mode.DYNAMIC;
        recorder.migrationStarted(MigrationRecorder.Side.SOURCE, mode);
        long startedNanos = System.nanoTime();
        publish(tracker, sink);
        try {
            InetSocketAddress address = uri.toSocketAddress();
            try (SourceConnection connection = SourceConnection.connect(group, devices, address,
                    caps.isOn(MigrationCapability.RDMA_PIN_ALL), timeout)) {
                SourceOptions options = new SourceOptions(connection.capabilities().pinAll(),
                        PooledByteBufAllocator.DEFAULT, timeout, SourceOptions.DEFAULT_MAX_OUTSTANDING,
                        parameters::get, caps.isOn(MigrationCapability.AUTO_CONVERGE),
                        caps.isOn(MigrationCapability.X_VERIFY), Schedulers.parallel(), recorder,
                        SourceOptions.DEFAULT_REGISTRATION_BATCH);
                MigrationSource source = new MigrationSource(connection.control(), connection.dataPath(), blocks,
                        options);
                MigrationSource.Events events = new MigrationSource.Events() {
                    @Override
                    public void status(MigrationStatus status) {
                        publish(tracker, sink);
                    }

                    @Override
                    public void round() {
                        MigrationInfo info = tracker.snapshot();
                        recorder.progress(info);
                        sink.next(info);
                    }
                };
                source.run(workload, tracker, events, cancelRequested::get);
            }
            if (tracker.throttle() > 0) {
                workload.throttle(0);
            }
            tracker.status(MigrationStatus.COMPLETED);
            recorder.migrationEnded(MigrationRecorder.Side.SOURCE, MigrationRecorder.Outcome.COMPLETED,
                    System.nanoTime() - startedNanos, tracker.downtimeMillis() * 1_000_000);
            publish(tracker, sink);
            finish();
            sink.complete();
        } catch (Exception e) {
            boolean cancelled = cancelRequested.get() || e instanceof CancellationException
                    || e.getCause() instanceof CancellationException;
            tracker.finish(cancelled ? MigrationStatus.CANCELLED : MigrationStatus.FAILED, describe(e));
            if (tracker.throttle() > 0) {
                workload.throttle(0);
                tracker.throttle(0);
            }
            if (tracker.pausedAt() >= 0) {
                workload.resume();
            }
            MigrationInfo last = tracker.snapshot();
            recorder.migrationEnded(MigrationRecorder.Side.SOURCE, cancelled ? MigrationRecorder.Outcome.CANCELLED
                    : MigrationRecorder.Outcome.FAILED, System.nanoTime() - startedNanos, -1);
            publish(tracker, sink);
            finish();
            sink.error(new MigrationFailedException(last, e));
        }
    }

    private static String describe(Throwable e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof java.nio.channels.ClosedChannelException) {
                return "the connection to the destination was closed (the destination stopped or the link failed)";
            }
        }
        String message = e.getMessage();
        return message == null ? e.getClass().getSimpleName() : message;
    }

    private void finish() {
        synchronized (lifecycle) {
            running = false;
        }
    }

    private void publish(MigrationTracker tracker, FluxSink<MigrationInfo> sink) {
        MigrationInfo info = tracker.snapshot();
        recorder.progress(info);
        synchronized (statusChanges) {
            // Sinks.Many rejects concurrent emitters (FAIL_NON_SERIALIZED): the worker and a cancel may race.
            statusChanges.tryEmitNext(info);
        }
        sink.next(info);
    }

    /**
     * {@code migrate_cancel}: asks the running migration to stop; it sends ERROR to the destination, moves
     * to {@code cancelled} and releases what it held. Does nothing when no migration runs.
     */
    public void cancel() {
        synchronized (lifecycle) {
            if (!running) {
                return;
            }
        }
        if (!cancelRequested.getAndSet(true)) {
            MigrationTracker tracker = current.get();
            if (tracker.status().isActive() && tracker.status() != MigrationStatus.CANCELLING) {
                tracker.status(MigrationStatus.CANCELLING);
                FluxSink<MigrationInfo> sink = currentSink;
                if (sink != null) {
                    publish(tracker, sink);
                }
            }
        }
    }

    /** Cancels a running migration and releases the event loops if this controller created them. */
    @Override
    public void close() {
        cancel();
        statusChanges.tryEmitComplete();
        if (ownsGroup) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
        }
    }
}
