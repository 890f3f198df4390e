package io.livemig.migration.api;

import io.livemig.migration.observe.MigrationRecorder;
import io.livemig.migration.connection.DestinationServer;
import io.livemig.migration.destination.IncomingMigration;
import io.livemig.migration.destination.MigrationDestination;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.ram.BlockAllocator;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.status.MigrationInfo;
import io.livemig.migration.status.MigrationStatus;
import io.livemig.migration.status.MigrationTracker;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import io.livemig.transport.rdma.channel.RdmaIoHandler;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import reactor.core.publisher.Flux;
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

    private final RdmaDeviceFactory devices;
    private final EventLoopGroup group;
    private final boolean ownsGroup;
    private final RamBlocks provided;
    private final long memoryLimit;
    private final long maxStateBytes;
    private final Duration timeout;
    private final MigrationRecorder recorder;
    private final BlockAllocator allocator;
    private final boolean preallocate;
    private final MigrationTracker tracker = new MigrationTracker();
    private final Sinks.One<IncomingMigration> completion = Sinks.one();
    private final Sinks.Many<MigrationInfo> statusChanges = Sinks.many().multicast().directBestEffort();
    private final Object lifecycle = new Object();
    private DestinationServer server;
    private volatile long startedNanos;

    private DestinationController(Builder builder) {
        this.devices = builder.devices;
        this.ownsGroup = builder.group == null;
        this.group = ownsGroup ? new MultiThreadIoEventLoopGroup(1,
                RdmaIoHandler.newFactory(RdmaIoHandler.DEFAULT_SPIN_POLLS, builder.recorder.transportRecorder())) : builder.group;
        this.provided = builder.provided;
        this.memoryLimit = builder.memoryLimit;
        this.maxStateBytes = builder.maxStateBytes;
        this.timeout = builder.timeout;
        this.recorder = builder.recorder;
        this.allocator = builder.allocator;
        this.preallocate = builder.preallocate;
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
        private RdmaDeviceFactory devices = RdmaDeviceFactory.named("soft");
        private EventLoopGroup group;
        private RamBlocks provided;
        private long memoryLimit = 64L << 30;
        private long maxStateBytes = 64L << 20;
        private Duration timeout = Duration.ofSeconds(60);
        private MigrationRecorder recorder = MigrationRecorder.NOOP;
        private BlockAllocator allocator = BlockAllocator.ANONYMOUS;
        private boolean preallocate;

        private Builder() {
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
         * Event loops of an {@code RdmaIoHandler} (default: one of its own, closed with it).
         *
         * @param group the loops, not owned
         * @return this
         */
        public Builder eventLoopGroup(EventLoopGroup group) {
            this.group = group;
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
         * Largest non-live state section accepted (default 64 MiB).
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
            this.recorder = Objects.requireNonNull(recorder);
            return this;
        }

        /**
         * How long to wait for each message of the source (default 60 s).
         *
         * @param timeout the timeout
         * @return this
         */
        public Builder timeout(Duration timeout) {
            this.timeout = Objects.requireNonNull(timeout);
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
        DestinationServer listening;
        synchronized (lifecycle) {
            if (server != null) {
                throw new IllegalStateException(ALREADY_INCOMING);
            }
            // Bind needs a resolved address; "0.0.0.0" and "[::]" listen on every interface.
            server = listening = DestinationServer.listen(group, devices, new InetSocketAddress(uri.host(), uri.port()));
        }
        listening.connections().next()
                .doOnNext(connection -> {
                    tracker.start(0);
                    startedNanos = System.nanoTime();
                    recorder.migrationStarted(MigrationRecorder.Side.DESTINATION, connection.capabilities().pinAll()
                            ? MigrationRecorder.Mode.PIN_ALL : MigrationRecorder.Mode.DYNAMIC);
                    publish();
                })
                .publishOn(reactor.core.scheduler.Schedulers.boundedElastic())
                .map(connection -> {
                    try (connection) {
                        MigrationDestination destination = new MigrationDestination(connection.control(),
                                connection.registrar(), connection.capabilities().pinAll(), provided, memoryLimit,
                                maxStateBytes, timeout).recorder(recorder).blockAllocator(allocator)
                                .preallocate(preallocate);
                        return destination.run(this::status);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                })
                .subscribe(migration -> {
                    tracker.status(MigrationStatus.COMPLETED);
                    recorder.migrationEnded(MigrationRecorder.Side.DESTINATION, MigrationRecorder.Outcome.COMPLETED,
                            System.nanoTime() - startedNanos, -1);
                    publish();
                    closeServer();
                    completion.tryEmitValue(migration);
                }, error -> {
                    Throwable cause = error instanceof java.io.UncheckedIOException u ? u.getCause() : error;
                    tracker.finish(MigrationStatus.FAILED, cause.getMessage());
                    recorder.migrationEnded(MigrationRecorder.Side.DESTINATION, MigrationRecorder.Outcome.FAILED,
                            System.nanoTime() - startedNanos, -1);
                    publish();
                    closeServer();
                    completion.tryEmitError(new MigrationFailedException(tracker.snapshot(), cause));
                });
        return listening.localAddress();
    }

    private void status(MigrationStatus status) {
        tracker.status(status);
        publish();
    }

    private void publish() {
        synchronized (statusChanges) {
            // Sinks.Many rejects concurrent emitters (FAIL_NON_SERIALIZED); the accept and worker threads both publish.
            statusChanges.tryEmitNext(tracker.snapshot());
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
     * {@code query-migrate} on the destination.
     *
     * @return the snapshot
     */
    public MigrationInfo info() {
        return tracker.snapshot();
    }

    /**
     * Every status change, as it happens (QMP's {@code MIGRATION} event).
     *
     * @return snapshots at each change
     */
    public Flux<MigrationInfo> statusChanges() {
        return statusChanges.asFlux();
    }

    private void closeServer() {
        DestinationServer listening;
        synchronized (lifecycle) {
            listening = server;
        }
        if (listening != null) {
            listening.close();
        }
    }

    /** Stops listening and releases the event loops if this controller created them (idempotent). */
    @Override
    public void close() {
        closeServer();
        completion.tryEmitError(new IllegalStateException("the destination was closed before a migration completed"));
        statusChanges.tryEmitComplete();
        if (ownsGroup) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
        }
    }
}
