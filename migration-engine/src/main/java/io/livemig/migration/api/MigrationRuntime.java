package io.livemig.migration.api;

import io.livemig.migration.observe.MigrationRecorder;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import io.livemig.transport.rdma.channel.RdmaIoHandler;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * What the source and destination controllers share: the RDMA provider, the event loops that poll its
 * completion queues, where metrics go, how long a step may wait for the peer, and the clock of timers
 * ({@code max-bandwidth} waits, live statistics, deadlines). One runtime may serve several controllers
 * (a process that is the source of one migration and the destination of another); it owns the event
 * loops it created, never ones handed to it.
 */
public final class MigrationRuntime implements AutoCloseable {

    private final RdmaDeviceFactory devices;
    private final EventLoopGroup group;
    private final boolean ownsGroup;
    private final MigrationRecorder recorder;
    private final Duration timeout;
    private final Scheduler timer;
    private final AtomicBoolean closed = new AtomicBoolean();

    private MigrationRuntime(Builder builder) {
        this.devices = builder.devices;
        this.recorder = builder.recorder;
        this.timeout = builder.timeout;
        this.timer = builder.timer;
        this.ownsGroup = builder.group == null;
        this.group = ownsGroup ? new MultiThreadIoEventLoopGroup(1,
                RdmaIoHandler.newFactory(RdmaIoHandler.DEFAULT_SPIN_POLLS, recorder.transportRecorder()))
                : builder.group;
    }

    /**
     * Starts building a runtime.
     *
     * @return a builder with the defaults: the soft provider, one event loop of its own, no metrics, 60 s
     */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link MigrationRuntime}. */
    public static final class Builder {
        private RdmaDeviceFactory devices = RdmaDeviceFactory.named("soft");
        private EventLoopGroup group;
        private MigrationRecorder recorder = MigrationRecorder.NOOP;
        private Duration timeout = Duration.ofSeconds(60);
        private Scheduler timer = Schedulers.parallel();

        private Builder() {
        }

        /**
         * The RDMA provider (default: the soft provider over TCP).
         *
         * @param devices the provider
         * @return this
         */
        public Builder devices(RdmaDeviceFactory devices) {
            this.devices = Objects.requireNonNull(devices, "devices");
            return this;
        }

        /**
         * Event loops of an {@code RdmaIoHandler} to run on (default: one of its own, closed with the runtime).
         *
         * @param group the loops, not owned; null for the default
         * @return this
         */
        public Builder eventLoopGroup(EventLoopGroup group) {
            this.group = group;
            return this;
        }

        /**
         * Where metrics go (default: nowhere; the metrics module provides a Micrometer recorder).
         *
         * @param recorder the recorder
         * @return this
         */
        public Builder recorder(MigrationRecorder recorder) {
            this.recorder = Objects.requireNonNull(recorder, "recorder");
            return this;
        }

        /**
         * How long any one step may wait for the peer (default 60 s).
         *
         * @param timeout the timeout
         * @return this
         */
        public Builder timeout(Duration timeout) {
            this.timeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        /**
         * The clock and scheduler of timers (default {@code Schedulers.parallel()}; a virtual-time scheduler
         * in tests).
         *
         * @param timer the scheduler, not owned
         * @return this
         */
        public Builder timer(Scheduler timer) {
            this.timer = Objects.requireNonNull(timer, "timer");
            return this;
        }

        /**
         * Builds the runtime (starting its event loop when none was given).
         *
         * @return the runtime
         */
        public MigrationRuntime build() {
            return new MigrationRuntime(this);
        }
    }

    /**
     * The RDMA provider.
     *
     * @return the provider
     */
    public RdmaDeviceFactory devices() {
        return devices;
    }

    /**
     * The event loops connections run on.
     *
     * @return the loops
     */
    public EventLoopGroup eventLoopGroup() {
        return group;
    }

    /**
     * Where metrics go.
     *
     * @return the recorder
     */
    public MigrationRecorder recorder() {
        return recorder;
    }

    /**
     * How long any one step may wait for the peer.
     *
     * @return the timeout
     */
    public Duration timeout() {
        return timeout;
    }

    /**
     * The clock and scheduler of timers.
     *
     * @return the scheduler
     */
    public Scheduler timer() {
        return timer;
    }

    /** Shuts down the event loops if this runtime created them (idempotent). */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true) && ownsGroup) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
        }
    }
}
