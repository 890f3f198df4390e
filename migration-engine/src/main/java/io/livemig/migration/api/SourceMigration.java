package io.livemig.migration.api;

import io.livemig.migration.auth.AuthKey;
import io.livemig.migration.connection.SourceConnection;
import io.livemig.migration.connection.SourceFailure;
import io.livemig.migration.control.Deadlines;
import io.livemig.migration.observe.MigrationRecorder;
import io.livemig.migration.params.MigrationCapabilities;
import io.livemig.migration.params.MigrationCapability;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.ram.DirtyTrackingMode;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.source.SourceOptions;
import io.livemig.migration.source.SwitchoverEstimate;
import io.livemig.migration.status.MigrationInfo;
import io.livemig.migration.status.MigrationStatus;
import io.livemig.migration.status.MigrationTracker;
import io.netty.buffer.PooledByteBufAllocator;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;
import java.util.function.Consumer;
import java.util.function.Supplier;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * One outgoing migration: it owns its phase, its connection, its cancellation and its progress.
 *
 * <p>The work is one pipeline: connect (RDMA CM with the capabilities in private data) then the
 * {@link SourcePipeline} (setup, rounds, switchover, state, completion), raced against the cancel
 * signal. {@link #cancel()} fires the signal: the pipeline's subscription is cancelled at once, so no
 * further write is posted and no further message sent; then ERROR goes to the destination, the
 * connection closes (flushing the writes still posted), their completions are awaited, the memory is
 * deregistered, and the status becomes {@code cancelled}. The application's memory is only read; a
 * paused application is resumed and a throttle lifted whatever the outcome.
 *
 * <p>The phase is one field moved by compare-and-set (reactor-core's style): {@code RUNNING} to
 * {@code CANCELLING} or {@code TERMINATED}, each transition taken by exactly one thread.
 */
public final class SourceMigration {

    private static final System.Logger LOG = System.getLogger(SourceMigration.class.getName());

    /** How often the live statistics are sampled while data moves (QEMU: every 100 ms). */
    static final Duration LIVE_STATS_PERIOD = Duration.ofMillis(250);

    /** The lifecycle of this object (QEMU's status is the tracker's; this guards the transitions). */
    enum Phase {
        /** Created; {@link #start()} not yet called. */
        CREATED,
        /** Connecting or migrating. */
        RUNNING,
        /** A cancel was requested; the pipeline is being stopped. */
        CANCELLING,
        /** Completed, failed or cancelled; nothing is held any more. */
        TERMINATED
    }

    private static final AtomicReferenceFieldUpdater<SourceMigration, Phase> PHASE =
            AtomicReferenceFieldUpdater.newUpdater(SourceMigration.class, Phase.class, "phase");

    private final MigrationUri uri;
    private final RamBlocks blocks;
    private final MigrationRuntime runtime;
    private final Workload workload;
    private final MigrationCapabilities capabilities;
    private final Supplier<MigrationParameters> parameters;
    private final Consumer<MigrationInfo> statusListener;
    private final Runnable onTerminated;
    private final AuthKey authKey;
    private final DirtyTrackingMode dirtyTracking;
    /** The source's: this migration's switchover costs inform the next one's decision. */
    private final SwitchoverEstimate switchoverEstimate;
    /** RAM per multifd channel ({@code SourceController.Builder.multifdChannelBytes}); 0: every channel. */
    private final long multifdChannelBytes;
    private final MigrationTracker tracker = new MigrationTracker();
    private final Sinks.Many<MigrationInfo> progress =
            Sinks.many().unicast().onBackpressureBuffer(new ProgressQueue());
    private final Sinks.One<Boolean> cancelSignal = Sinks.one();
    private final Sinks.Empty<Void> continueSignal = Sinks.empty();
    private final Sinks.Empty<Void> terminated = Sinks.empty();
    private final Object emitLock = new Object();
    private volatile Phase phase = Phase.CREATED;
    private volatile SourceConnection connection;
    private volatile SourcePipeline pipeline;
    private volatile Disposable sampler;
    private long startedNanos;

    SourceMigration(MigrationUri uri, RamBlocks blocks, MigrationRuntime runtime, Workload workload,
            MigrationCapabilities capabilities, Supplier<MigrationParameters> parameters,
            Consumer<MigrationInfo> statusListener, Runnable onTerminated, AuthKey authKey,
            DirtyTrackingMode dirtyTracking, SwitchoverEstimate switchoverEstimate, long multifdChannelBytes) {
        this.uri = Objects.requireNonNull(uri, "uri");
        this.blocks = blocks;
        this.runtime = runtime;
        this.workload = workload;
        this.capabilities = capabilities;
        this.parameters = parameters;
        this.statusListener = statusListener;
        this.onTerminated = onTerminated;
        this.authKey = authKey;
        this.dirtyTracking = dirtyTracking;
        this.switchoverEstimate = switchoverEstimate;
        this.multifdChannelBytes = multifdChannelBytes;
    }

    /**
     * The dirty tracking this migration uses, once its bulk round started.
     *
     * @return the mode and why, as {@link io.livemig.migration.ram.DirtyTracking#describe}; empty before
     */
    public Optional<String> dirtyTracking() {
        SourcePipeline running = pipeline;
        return running == null ? Optional.empty() : running.dirtyTracking();
    }

    /**
     * The progress of this migration: a snapshot at every status change (never dropped), after every round
     * and every 250 ms while data moves (conflated when the subscriber is slow).
     * Completes after {@code completed}; fails with {@link MigrationFailedException} after {@code failed} or
     * {@code cancelled}. One subscriber.
     *
     * @return the progress
     */
    public Flux<MigrationInfo> progress() {
        return progress.asFlux();
    }

    /**
     * A {@code query-migrate} snapshot.
     *
     * @return the snapshot
     */
    public MigrationInfo info() {
        return tracker.snapshot();
    }

    /**
     * Whether this migration still holds anything (connecting, migrating or being cancelled).
     *
     * @return true until it terminated
     */
    public boolean isRunning() {
        Phase now = phase;
        return now == Phase.RUNNING || now == Phase.CANCELLING;
    }

    /** Starts the migration: status setup now, the pipeline in the background. */
    void start() {
        if (!PHASE.compareAndSet(this, Phase.CREATED, Phase.RUNNING)) {
            throw new IllegalStateException("a migration starts once");
        }
        MigrationRecorder recorder = runtime.recorder();
        tracker.start(blocks.totalBytes());
        startedNanos = System.nanoTime();
        recorder.migrationStarted(MigrationRecorder.Side.SOURCE, capabilities.isOn(MigrationCapability.RDMA_PIN_ALL)
                ? MigrationRecorder.Mode.PIN_ALL : MigrationRecorder.Mode.DYNAMIC);
        publishStatus();
        boolean pinAll = capabilities.isOn(MigrationCapability.RDMA_PIN_ALL);
        Duration timeout = runtime.timeout();
        Mono<SourceConnection> connect = Deadlines.within(Mono.defer(() -> SourceConnection.connecting(
                runtime.eventLoopGroup(), runtime.devices(), uri.toSocketAddress(), pinAll, timeout, authKey,
                capabilities.isOn(MigrationCapability.MULTIFD) ? parameters.get().multifdChannels() : 1)),
                timeout.plusSeconds(5), runtime.timer(), "connecting to " + uri.host() + ":" + uri.port());
        connect.flatMap(established -> {
                    connection = established;
                    established.onMultifdBytes(tracker::multifdBytes);
                    pipeline = new SourcePipeline(established.control(), established.dataPath(), blocks,
                            options(established), capabilities.isOn(MigrationCapability.PAUSE_BEFORE_SWITCHOVER),
                            dirtyTracking).switchoverEstimate(switchoverEstimate);
                    return pipeline.run(workload, tracker, new Events());
                })
                .flux()
                // The cancel signal cancels the pipeline's subscription: nothing more is posted or sent.
                .takeUntilOther(cancelSignal.asMono())
                .then(Mono.defer(() -> phase == Phase.CANCELLING ? cancelled() : completed()))
                .onErrorResume(this::failed)
                .subscribe();
    }

    private SourceOptions options(SourceConnection established) {
        boolean livemig = established.capabilities().livemig();
        boolean verify = capabilities.isOn(MigrationCapability.X_VERIFY);
        if (verify && !livemig) {
            // x-verify is livemig's own: a QEMU destination would refuse the unknown section.
            LOG.log(System.Logger.Level.WARNING, "x-verify: the destination is not livemig (it did not echo the "
                    + "livemig capability); no checksums are sent");
        }
        return SourceOptions.negotiated(established.capabilities().pinAll(), PooledByteBufAllocator.DEFAULT,
                runtime.timeout(), parameters, capabilities.isOn(MigrationCapability.AUTO_CONVERGE), verify,
                runtime.timer(), runtime.recorder(), livemig);
    }

    /** What the pipeline reports: statuses, rounds, and the pre-switchover wait. */
    private final class Events implements SourcePipeline.Events {
        @Override
        public void status(MigrationStatus status) {
            if (status == MigrationStatus.ACTIVE) {
                startSampler();
                // multifd: the extra channels connect now, beside the bulk round, not during the setup's exchanges.
                connection.connectExtras(SourceController.multifdChannels(blocks.totalBytes(), multifdChannelBytes,
                        parameters.get().multifdChannels()) - 1);
            }
            publishStatus();
        }

        @Override
        public void round() {
            publishProgress();
        }

        @Override
        public Mono<Void> preSwitchover() {
            return continueSignal.asMono();
        }
    }

    /**
     * {@code migrate_cancel}: stops the migration. Returns at once; the status is {@code cancelling} until
     * the pipeline stopped and released what it held, then {@code cancelled}. Idempotent; does nothing
     * once the migration terminated.
     */
    public void cancel() {
        if (!PHASE.compareAndSet(this, Phase.RUNNING, Phase.CANCELLING)) {
            return;
        }
        if (tracker.status().isActive() || tracker.status() == MigrationStatus.SETUP) {
            tracker.status(MigrationStatus.CANCELLING);
            publishStatus();
        }
        cancelSignal.tryEmitValue(Boolean.TRUE);
    }

    /**
     * {@code migrate-continue}: lets a migration stopped in {@code pre-switchover} go on.
     *
     * @param state the state the caller expects the migration to be in (QEMU's argument)
     * @throws IllegalStateException "Migration not in expected state: STATUS" otherwise
     */
    public void continueFrom(MigrationStatus state) {
        MigrationStatus now = tracker.status();
        if (now != state || now != MigrationStatus.PRE_SWITCHOVER) {
            throw new IllegalStateException(SourceController.NOT_IN_EXPECTED_STATE + now.qmpName());
        }
        continueSignal.tryEmitEmpty();
    }

    private Mono<Void> completed() {
        MigrationRecorder recorder = runtime.recorder();
        long closing = System.nanoTime();
        return closeConnection().then(Mono.fromRunnable(() -> {
            switchoverEstimate.connectionClosed(System.nanoTime() - closing);
            if (!PHASE.compareAndSet(this, Phase.RUNNING, Phase.TERMINATED)) {
                // A cancel raced the last step: the destination has everything, but report what was asked.
                PHASE.set(this, Phase.TERMINATED);
            }
            stopSampler();
            if (tracker.throttle() > 0) {
                workload.throttle(0);
            }
            tracker.status(MigrationStatus.COMPLETED);
            recorder.migrationEnded(MigrationRecorder.Side.SOURCE, MigrationRecorder.Outcome.COMPLETED,
                    System.nanoTime() - startedNanos, tracker.downtimeMillis() * 1_000_000);
            publishStatus();
            terminate(null);
        }));
    }

    private Mono<Void> cancelled() {
        CancellationException cause = new CancellationException("migration cancelled");
        SourcePipeline running = pipeline;
        Mono<Void> stop = running == null ? closeConnection() : running.cancel(cause, closeConnection());
        return stop.then(Mono.fromRunnable(() -> end(MigrationStatus.CANCELLED, cause)));
    }

    private Mono<Void> failed(Throwable error) {
        return closeConnection().then(Mono.fromRunnable(() -> end(phase == Phase.CANCELLING
                ? MigrationStatus.CANCELLED : MigrationStatus.FAILED, error)));
    }

    /** Ends in failed or cancelled: the application runs on, unthrottled, with its memory as it was. */
    private void end(MigrationStatus status, Throwable cause) {
        PHASE.set(this, Phase.TERMINATED);
        stopSampler();
        SourceFailure failure = describe(cause);
        tracker.finish(status, failure.getMessage());
        if (tracker.throttle() > 0) {
            workload.throttle(0);
            tracker.throttle(0);
        }
        if (tracker.pausedAt() >= 0) {
            workload.resume();
        }
        runtime.recorder().migrationEnded(MigrationRecorder.Side.SOURCE, status == MigrationStatus.CANCELLED
                ? MigrationRecorder.Outcome.CANCELLED : MigrationRecorder.Outcome.FAILED,
                System.nanoTime() - startedNanos, -1);
        publishStatus();
        terminate(new MigrationFailedException(tracker.snapshot(), failure));
    }

    /**
     * Completes when this migration terminated (completed, failed or cancelled) and holds nothing.
     *
     * @return completes at the end; never fails
     */
    public Mono<Void> terminated() {
        return terminated.asMono();
    }

    private void terminate(Throwable failure) {
        onTerminated.run();
        terminated.tryEmitEmpty();
        synchronized (emitLock) {
            if (failure == null) {
                progress.tryEmitComplete();
            } else {
                progress.tryEmitError(failure);
            }
        }
    }

    private Mono<Void> closeConnection() {
        SourceConnection open = connection;
        return open == null ? Mono.empty() : open.closing();
    }

    private void startSampler() {
        if (sampler == null) {
            tracker.sample();
            sampler = Flux.interval(LIVE_STATS_PERIOD, LIVE_STATS_PERIOD, runtime.timer()).subscribe(tick -> {
                tracker.sample();
                publishProgress();
            });
        }
    }

    private void stopSampler() {
        Disposable running = sampler;
        if (running != null) {
            running.dispose();
        }
    }

    private void publishStatus() {
        MigrationInfo info = publishProgress();
        statusListener.accept(info);
    }

    private MigrationInfo publishProgress() {
        MigrationInfo info = tracker.snapshot();
        runtime.recorder().progress(info);
        synchronized (emitLock) {
            // Sinks reject concurrent emitters: the pipeline, the sampler and a cancel may race.
            progress.tryEmitNext(info);
        }
        return info;
    }

    /** The failure as the operator reads it: its class and sentence are {@link SourceFailure}'s. */
    private SourceFailure describe(Throwable e) {
        SourceConnection open = connection;
        return SourceFailure.classify(e, uri.host().indexOf(':') >= 0 ? "[" + uri.host() + "]:" + uri.port()
                : uri.host() + ":" + uri.port(), open != null && open.control().peerSpoke());
    }
}
