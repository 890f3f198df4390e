package io.livemig.migration.api;

import io.livemig.migration.auth.AuthKey;
import io.livemig.migration.observe.MigrationRecorder;
import io.livemig.migration.params.MigrationCapabilities;
import io.livemig.migration.params.MigrationCapability;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.ram.DirtyTracking;
import io.livemig.migration.ram.DirtyTrackingMode;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.source.SwitchoverEstimate;
import io.livemig.migration.status.MigrationInfo;
import io.livemig.migration.status.MigrationStatus;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import io.netty.channel.EventLoopGroup;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;

/**
 * The source side of livemig as QEMU's monitor sees it: RAM blocks, capabilities, parameters, and at
 * most one outgoing migration at a time ({@code migrate}, {@code migrate_cancel}, {@code query-migrate},
 * {@code migrate-continue}). The monitor (HMP/QMP), the command line and embedders drive this class;
 * each migration is a {@link SourceMigration}. It owns the runtime it creates (not one handed to it)
 * and never the RAM blocks.
 *
 * <p>Failure and cancellation leave the application running with its memory untouched (the source only
 * reads it), lift any throttle, resume a paused workload, and leave the controller ready for another
 * {@code migrate}.
 */
public final class SourceController implements AutoCloseable {

    /** QEMU's message when {@code migrate} is issued during a migration. */
    public static final String IN_PROGRESS = "There's a migration process in progress";

    /** RAM per {@code multifd} channel unless {@link Builder#multifdChannelBytes} says otherwise: 64 MiB. */
    public static final long DEFAULT_MULTIFD_CHANNEL_BYTES = 64L << 20;

    /**
     * The {@code multifd} channels a migration of {@code ramBytes} opens: one per {@code bytesPerChannel}
     * ({@link Builder#multifdChannelBytes}; 0 for all), at least one, at most {@code multifdChannels}.
     *
     * @param ramBytes the RAM the migration sends
     * @param bytesPerChannel RAM per channel, 0 or more
     * @param multifdChannels the {@code multifd-channels} parameter
     * @return 1 to {@code multifdChannels}
     */
    public static int multifdChannels(long ramBytes, long bytesPerChannel, int multifdChannels) {
        long perRam = bytesPerChannel == 0 ? Long.MAX_VALUE : Math.max(1, ramBytes / bytesPerChannel);
        return (int) Math.min(multifdChannels, perRam);
    }

    /** QEMU's {@code migrate-continue} text when the migration is not in the state named, before the status. */
    public static final String NOT_IN_EXPECTED_STATE = "Migration not in expected state: ";

    private final RamBlocks blocks;
    private final MigrationRuntime runtime;
    private final boolean ownsRuntime;
    private final Workload workload;
    private final AuthKey authKey;
    private final DirtyTrackingMode dirtyTracking;
    private final long multifdChannelBytes;
    /** The switchover costs measured by this source's migrations, shared by them one after the other. */
    private final SwitchoverEstimate switchoverEstimate = new SwitchoverEstimate();
    private final AtomicReference<MigrationCapabilities> capabilities =
            new AtomicReference<>(MigrationCapabilities.DEFAULTS);
    private final AtomicReference<MigrationParameters> parameters =
            new AtomicReference<>(MigrationParameters.DEFAULTS);
    /** The running migration, claimed by compare-and-set: at most one at a time. */
    private final AtomicReference<SourceMigration> running = new AtomicReference<>();
    /** The last migration started, for {@code query-migrate} after it ended. */
    private volatile SourceMigration last;
    private final CopyOnWriteArrayList<FluxSink<MigrationInfo>> statusSubscribers = new CopyOnWriteArrayList<>();

    private SourceController(Builder builder) {
        this.blocks = Objects.requireNonNull(builder.blocks, "blocks");
        this.ownsRuntime = builder.runtime == null;
        this.runtime = ownsRuntime ? builder.runtimeBuilder.build() : builder.runtime;
        this.workload = builder.workload;
        this.authKey = builder.authKey;
        this.dirtyTracking = builder.dirtyTracking;
        this.multifdChannelBytes = builder.multifdChannelBytes;
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
        private final MigrationRuntime.Builder runtimeBuilder = MigrationRuntime.builder();
        private MigrationRuntime runtime;
        private Workload workload = new Workload() { };
        private AuthKey authKey;
        private DirtyTrackingMode dirtyTracking = DirtyTrackingMode.defaultMode();
        private long multifdChannelBytes = DEFAULT_MULTIFD_CHANNEL_BYTES;

        private Builder(RamBlocks blocks) {
            this.blocks = blocks;
        }

        /**
         * A key shared with the destination (default: none): each connect carries a proof of it after the
         * capabilities (see {@link io.livemig.migration.auth.AuthProof}); a destination with another key, or with
         * one while this has none, rejects the connect.
         *
         * @param key the key, at least {@value io.livemig.migration.auth.AuthKey#MIN_BYTES} bytes (copied)
         * @return this
         * @throws IllegalArgumentException for a shorter key
         */
        public Builder authKey(byte[] key) {
            return authKey(AuthKey.of(key));
        }

        /**
         * A key shared with the destination, as {@link #authKey(byte[])}.
         *
         * @param key the key, or {@code null} for none
         * @return this
         */
        public Builder authKey(AuthKey key) {
            this.authKey = key;
            return this;
        }

        /**
         * A runtime shared with other controllers (not owned); replaces the devices, event loops, recorder
         * and timeout set on this builder.
         *
         * @param runtime the runtime
         * @return this
         */
        public Builder runtime(MigrationRuntime runtime) {
            this.runtime = Objects.requireNonNull(runtime);
            return this;
        }

        /**
         * The RDMA provider (default: the soft provider over TCP).
         *
         * @param devices the provider
         * @return this
         */
        public Builder devices(RdmaDeviceFactory devices) {
            runtimeBuilder.devices(devices);
            return this;
        }

        /**
         * Event loops of an {@code RdmaIoHandler} to run on (default: one of its own, closed with it).
         *
         * @param group the loops, not owned
         * @return this
         */
        public Builder eventLoopGroup(EventLoopGroup group) {
            runtimeBuilder.eventLoopGroup(group);
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
            runtimeBuilder.recorder(recorder);
            return this;
        }

        /**
         * How long any one step may wait for the destination (default 60 s).
         *
         * @param timeout the timeout
         * @return this
         */
        public Builder timeout(Duration timeout) {
            runtimeBuilder.timeout(timeout);
            return this;
        }

        /**
         * How each migration learns which pages the application wrote (default {@link DirtyTrackingMode#defaultMode()},
         * {@link DirtyTrackingMode#AUTO} unless the system property says otherwise).
         * {@link DirtyTrackingMode#AUTO} takes the kernel's userfaultfd write-protection where it works, so plain
         * stores to the blocks' memory need no marking. A mode other than auto that is unavailable here fails each
         * migration with {@link DirtyTracking#unavailabilityCause}.
         *
         * @param mode the mode
         * @return this
         */
        public Builder dirtyTracking(DirtyTrackingMode mode) {
            this.dirtyTracking = Objects.requireNonNull(mode, "mode");
            return this;
        }

        /**
         * How much RAM a {@code multifd} channel needs to be opened (default {@value #DEFAULT_MULTIFD_CHANNEL_BYTES}
         * bytes): a migration with the capability on uses one channel per this many bytes of its RAM blocks, at
         * least one and at most {@code multifd-channels}; 0 opens all {@code multifd-channels}. A channel costs a
         * connect and a queue pair at both ends and earns its keep only when its share of the bulk round lasts
         * longer than that: below 64 MiB per channel, migrations on the soft fabric measured slower with their
         * extra channels than without (docs/multifd.md). Not a QEMU parameter, so not in the monitor.
         *
         * @param bytes RAM per channel, 0 or more
         * @return this
         * @throws IllegalArgumentException for a negative size
         */
        public Builder multifdChannelBytes(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("multifdChannelBytes must be >= 0: " + bytes);
            }
            this.multifdChannelBytes = bytes;
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
     * The dirty tracking of the running or last migration, or what the next one will ask for.
     *
     * @return for example {@code "dirty tracking: uffd-wp (auto: available)"} or {@code "dirty tracking: auto"}
     */
    public String dirtyTracking() {
        SourceMigration latest = last;
        return latest == null ? "dirty tracking: " + dirtyTracking
                : latest.dirtyTracking().orElse("dirty tracking: " + dirtyTracking);
    }

    /**
     * The runtime this controller runs on.
     *
     * @return the runtime
     */
    public MigrationRuntime runtime() {
        return runtime;
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
        if (running.get() != null) {
            throw new IllegalStateException(IN_PROGRESS);
        }
        capabilities.updateAndGet(c -> c.with(capability, on));
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
     * applies a new {@code max-bandwidth} within one bucket period (50 ms), and {@code downtime-limit} and
     * the throttle parameters from its next round on.
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
        SourceMigration migration = last;
        return migration == null ? MigrationInfo.NONE : migration.info();
    }

    /**
     * Every status change of every migration, as it happens (QMP's {@code MIGRATION} event). Hot: a
     * subscriber sees changes after it subscribed, and every one of them however slowly it reads (status
     * changes are few: they are buffered per subscriber, never dropped).
     *
     * @return snapshots taken at each status change
     */
    public Flux<MigrationInfo> statusChanges() {
        return Flux.create(sink -> {
            statusSubscribers.add(sink);
            sink.onDispose(() -> statusSubscribers.remove(sink));
        }, FluxSink.OverflowStrategy.BUFFER);
    }

    /**
     * Starts a migration in the background ({@code migrate -d}); follow it with {@link #info()} or
     * {@link #statusChanges()}.
     *
     * @param uri the destination
     * @return the migration
     * @throws IllegalStateException "There's a migration process in progress"
     */
    public SourceMigration start(MigrationUri uri) {
        SourceMigration migration = claim(uri);
        migration.start();
        return migration;
    }

    /**
     * The migration as a lazy stream of progress: subscribing starts it; it emits a snapshot at every
     * status change (never dropped), after every round and while data moves (conflated for a slow
     * subscriber), and completes after the {@code completed} snapshot, or fails with a
     * {@link MigrationFailedException} carrying the final snapshot. Cancelling the subscription cancels
     * the migration. Subscribing while another migration runs fails with {@link IllegalStateException}
     * "There's a migration process in progress".
     *
     * @param uri the destination
     * @return the progress
     */
    public Flux<MigrationInfo> migrate(MigrationUri uri) {
        Objects.requireNonNull(uri, "uri");
        return Flux.defer(() -> {
            SourceMigration migration = claim(uri);
            migration.start();
            return migration.progress().doOnCancel(migration::cancel);
        });
    }

    private SourceMigration claim(MigrationUri uri) {
        Objects.requireNonNull(uri, "uri");
        SourceMigration[] self = new SourceMigration[1];
        SourceMigration migration = new SourceMigration(uri, blocks, runtime, workload, capabilities.get(),
                parameters::get, this::statusChanged, () -> running.compareAndSet(self[0], null), authKey,
                dirtyTracking, switchoverEstimate, multifdChannelBytes);
        self[0] = migration;
        if (!running.compareAndSet(null, migration)) {
            throw new IllegalStateException(IN_PROGRESS);
        }
        last = migration;
        return migration;
    }

    private void statusChanged(MigrationInfo info) {
        for (FluxSink<MigrationInfo> sink : statusSubscribers) {
            sink.next(info);
        }
    }

    /**
     * {@code migrate_cancel}: asks the running migration to stop; it stops posting writes at once, sends
     * ERROR to the destination, moves to {@code cancelled} and releases what it held. Does nothing when no
     * migration runs.
     */
    public void cancel() {
        SourceMigration migration = running.get();
        if (migration != null) {
            migration.cancel();
        }
    }

    /**
     * {@code migrate-continue}: lets a migration stopped in {@code pre-switchover} (capability
     * {@code pause-before-switchover}) go on.
     *
     * @param state the state the caller expects, QEMU's {@code state} argument
     * @throws IllegalStateException "Migration not in expected state: STATUS"
     */
    public void continueMigration(MigrationStatus state) {
        SourceMigration migration = running.get();
        if (migration == null) {
            throw new IllegalStateException(NOT_IN_EXPECTED_STATE + info().status().qmpName());
        }
        migration.continueFrom(state);
    }

    /** Cancels a running migration and releases the runtime if this controller created it (idempotent). */
    @Override
    public void close() {
        cancel();
        SourceMigration migration = running.get();
        if (migration != null) {
            // The cancel stops the pipeline and releases its registrations quickly; wait for that before
            // the event loops the connection runs on go away.
            migration.terminated().block(runtime.timeout());
        }
        statusSubscribers.forEach(FluxSink::complete);
        if (ownsRuntime) {
            runtime.close();
        }
    }
}
