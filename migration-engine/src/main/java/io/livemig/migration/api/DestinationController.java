package io.livemig.migration.api;

import io.livemig.migration.auth.AuthKey;
import io.livemig.migration.observe.MigrationRecorder;
import io.livemig.migration.connection.DestinationServer;
import io.livemig.migration.destination.IncomingMigration;
import io.livemig.migration.destination.MigrationDestination;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.ram.BlockAllocator;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.status.MigrationInfo;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * The destination side of livemig as QEMU's monitor sees it ({@code -incoming rdma:HOST:PORT},
 * {@code migrate-incoming}, {@code query-migrate}): listens, accepts one migration, and hands the
 * application the RAM blocks and non-live state it received. A failed incoming migration releases its
 * registrations and the blocks it allocated, and fails {@link #completion()}.
 */
public final class DestinationController implements AutoCloseable {

    /** QEMU's text when {@code migrate-incoming} is issued twice. */
    public static final String ALREADY_INCOMING = "The incoming migration has already been started";

    /** The {@code error-desc} of an incoming migration stopped by {@link #close()}. */
    public static final String CLOSED = "the destination was closed during the migration";

    private final MigrationRuntime runtime;
    private final boolean ownsRuntime;
    private final RamBlocks provided;
    private final long memoryLimit;
    private final long maxStateBytes;
    private final BlockAllocator allocator;
    private final boolean preallocate;
    private final String expectedMachine;
    private final DestinationServer.Admission admission;
    private final Sinks.One<IncomingMigration> completion = Sinks.one();
    private final CopyOnWriteArrayList<FluxSink<MigrationInfo>> statusSubscribers = new CopyOnWriteArrayList<>();
    /** The server, claimed by compare-and-set: {@code migrate-incoming} runs once. */
    private final AtomicReference<DestinationServer> server = new AtomicReference<>();
    private volatile DestinationMigration migration;

    private DestinationController(Builder builder) {
        this.ownsRuntime = builder.runtime == null;
        this.runtime = ownsRuntime ? builder.runtimeBuilder.build() : builder.runtime;
        this.provided = builder.provided;
        this.memoryLimit = builder.memoryLimit;
        this.maxStateBytes = builder.maxStateBytes;
        this.allocator = builder.allocator;
        this.preallocate = builder.preallocate;
        this.expectedMachine = builder.expectedMachine;
        this.admission = new DestinationServer.Admission(builder.authKey, builder.rejected);
    }

    /**
     * Starts building a destination.
     *
     * @return a builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link DestinationController}. */
    public static final class Builder {
        private final MigrationRuntime.Builder runtimeBuilder = MigrationRuntime.builder();
        private MigrationRuntime runtime;
        private RamBlocks provided;
        private long memoryLimit = 64L << 30;
        private long maxStateBytes = 64L << 20;
        private BlockAllocator allocator = BlockAllocator.ANONYMOUS;
        private boolean preallocate;
        private String expectedMachine;
        private AuthKey authKey;
        private BiConsumer<InetSocketAddress, String> rejected = DestinationServer.Admission.OPEN.rejected();

        private Builder() {
        }

        /**
         * A key shared with the sources (default: none, anyone may migrate in): a connect request without a
         * valid, fresh, unseen proof of it is rejected before anything is registered, and the source is told
         * "authentication".
         *
         * @param key the key, at least {@value io.livemig.migration.auth.AuthKey#MIN_BYTES} bytes (copied)
         * @return this
         * @throws IllegalArgumentException for a shorter key
         */
        public Builder authKey(byte[] key) {
            return authKey(AuthKey.of(key));
        }

        /**
         * A key shared with the sources, as {@link #authKey(byte[])}.
         *
         * @param key the key, or {@code null} for none
         * @return this
         */
        public Builder authKey(AuthKey key) {
            this.authKey = key;
            return this;
        }

        /**
         * Told of each rejected connect request: the peer's address and why, for example
         * {@code "authentication failed: wrong authentication proof (another key?)"} or
         * {@code "busy with another migration"} (default: logged at WARNING). Called on an event loop; must not
         * block.
         *
         * @param listener the listener
         * @return this
         */
        public Builder onRejected(BiConsumer<InetSocketAddress, String> listener) {
            this.rejected = Objects.requireNonNull(listener);
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
         * Event loops of an {@code RdmaIoHandler} (default: one of its own, closed with it).
         *
         * @param group the loops, not owned
         * @return this
         */
        public Builder eventLoopGroup(EventLoopGroup group) {
            runtimeBuilder.eventLoopGroup(group);
            return this;
        }

        /**
         * The application's RAM layout to receive into; by default the blocks the source announces are
         * allocated (up to {@link #memoryLimit(long)}).
         *
         * @param blocks the blocks, not owned
         * @return this
         */
        public Builder blocks(RamBlocks blocks) {
            this.provided = blocks;
            return this;
        }

        /**
         * How announced blocks are made when no {@link #blocks(RamBlocks) layout} is given (default:
         * anonymous memory); for example a file mapping for some names.
         *
         * @param allocator the allocator; the blocks it makes are released with a failed migration
         * @return this
         */
        public Builder blockAllocator(BlockAllocator allocator) {
            this.allocator = Objects.requireNonNull(allocator);
            return this;
        }

        /**
         * Whether announced blocks are committed when they are allocated, before RAM BLOCKS RESULT (QEMU's
         * {@code -mem-prealloc}; default off: pages are committed as the writes first touch them). It moves
         * the page faults out of the receive path into the setup, in parallel.
         *
         * @param preallocate true to populate allocated blocks during the setup
         * @return this
         */
        public Builder preallocate(boolean preallocate) {
            this.preallocate = preallocate;
            return this;
        }

        /**
         * Most bytes to allocate for announced blocks (default 64 GiB).
         *
         * @param bytes the limit
         * @return this
         */
        public Builder memoryLimit(long bytes) {
            this.memoryLimit = bytes;
            return this;
        }

        /**
         * The machine name the source's configuration section must carry (default: any), as a QEMU
         * destination checks its own: another name fails the migration with "section 'configuration': Machine
         * type received is 'X' and local is 'Y'".
         *
         * @param machine the name (QEMU's {@code none}, {@code pc-i440fx-7.2}, ...), or null for any
         * @return this
         */
        public Builder expectedMachine(String machine) {
            this.expectedMachine = machine;
            return this;
        }

        /**
         * Largest non-live state section accepted (default 64 MiB); also the limit of a VM's device state
         * (everything after the RAM) and of the VMDESCRIPTION.
         *
         * @param bytes the limit
         * @return this
         */
        public Builder maxStateBytes(long bytes) {
            this.maxStateBytes = bytes;
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
         * How long to wait for each message of the source (default 60 s).
         *
         * @param timeout the timeout
         * @return this
         */
        public Builder timeout(Duration timeout) {
            runtimeBuilder.timeout(timeout);
            return this;
        }

        /**
         * Builds the destination.
         *
         * @return the destination
         */
        public DestinationController build() {
            return new DestinationController(this);
        }
    }

    /**
     * {@code migrate-incoming}: listens on {@code uri} and runs the first migration that connects.
     *
     * @param uri where to listen (port 0 picks a free port)
     * @return the address listened on
     * @throws IOException if listening fails
     * @throws IllegalStateException "The incoming migration has already been started"
     */
    public InetSocketAddress listen(MigrationUri uri) throws IOException {
        if (server.get() != null) {
            throw new IllegalStateException(ALREADY_INCOMING);
        }
        // Bind needs a resolved address; "0.0.0.0" and "[::]" listen on every interface.
        DestinationServer listening = DestinationServer.listen(runtime.eventLoopGroup(), runtime.devices(),
                new InetSocketAddress(uri.host(), uri.port()), admission,
                // An accept the source never confirms holds receive buffers: no longer than any other wait.
                runtime.timeout().compareTo(java.time.Duration.ofSeconds(30)) < 0 ? runtime.timeout()
                        : java.time.Duration.ofSeconds(30));
        if (!server.compareAndSet(null, listening)) {
            listening.close();
            throw new IllegalStateException(ALREADY_INCOMING);
        }
        listening.connections().next()
                .flatMap(connection -> {
                    DestinationMigration incoming = new DestinationMigration(connection, runtime.recorder(),
                            this::statusChanged);
                    migration = incoming;
                    return incoming.run(c -> new MigrationDestination(c.control(), c.registrar(),
                            c.capabilities().pinAll(), provided, memoryLimit, maxStateBytes, runtime.timeout())
                            .recorder(runtime.recorder()).blockAllocator(allocator).preallocate(preallocate)
                            .timer(runtime.timer()).expectedMachine(expectedMachine));
                })
                .doFinally(signal -> closeServer())
                .subscribe(completion::tryEmitValue, completion::tryEmitError);
        return listening.localAddress();
    }

    private void statusChanged(MigrationInfo info) {
        for (FluxSink<MigrationInfo> sink : statusSubscribers) {
            sink.next(info);
        }
    }

    /**
     * The incoming migration once it completed; fails with {@link MigrationFailedException}.
     *
     * @return the migration (its blocks are the application's to close, unless provided by it)
     */
    public Mono<IncomingMigration> completion() {
        return completion.asMono();
    }

    /**
     * {@code query-migrate} on the destination: the status, the times and, once failed, the reason; no
     * {@code ram} statistics, as QEMU's destination has none (RDMA WRITEs land unseen; see
     * {@link io.livemig.migration.status.MigrationTracker#incoming()}). What was received is
     * {@link #completion()}'s.
     *
     * @return the snapshot
     */
    public MigrationInfo info() {
        DestinationMigration incoming = migration;
        return incoming == null ? MigrationInfo.NONE : incoming.info();
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
     * Every status change, as it happens (QMP's {@code MIGRATION} event); buffered per subscriber, never
     * dropped.
     *
     * @return snapshots at each change
     */
    public Flux<MigrationInfo> statusChanges() {
        return Flux.create(sink -> {
            statusSubscribers.add(sink);
            sink.onDispose(() -> statusSubscribers.remove(sink));
        }, FluxSink.OverflowStrategy.BUFFER);
    }

    private void closeServer() {
        DestinationServer listening = server.get();
        if (listening != null) {
            listening.close();
        }
    }

    /**
     * Stops listening, stops a running incoming migration (it fails with {@link #CLOSED}, sends ERROR to the
     * source and releases what it held) and waits for it, at most the timeout, then releases the event loops
     * if this controller created them (idempotent).
     */
    @Override
    public void close() {
        closeServer();
        DestinationMigration incoming = migration;
        if (incoming != null) {
            // Stopped and waited for before the event loops go: its pipeline still runs on them, and a task
            // submitted to a terminated loop fails with RejectedExecutionException.
            incoming.abort(new IOException(CLOSED));
            try {
                completion.asMono().onErrorResume(error -> Mono.empty()).block(runtime.timeout());
            } catch (IllegalStateException timedOut) {
                // The abort is bounded by the timeout itself; past it, the runtime's close goes on regardless.
            }
        }
        completion.tryEmitError(new IllegalStateException("the destination was closed before a migration completed"));
        statusSubscribers.forEach(FluxSink::complete);
        if (ownsRuntime) {
            runtime.close();
        }
    }
}
