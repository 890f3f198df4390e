package io.livemig.metrics;

import io.livemig.migration.observe.MigrationRecorder;
import io.livemig.migration.protocol.ControlType;
import io.livemig.migration.status.MigrationInfo;
import io.livemig.migration.status.RamInfo;
import io.livemig.transport.rdma.observe.TransportRecorder;
import io.livemig.transport.rdma.verbs.WcOpcode;
import io.livemig.transport.rdma.verbs.WcStatus;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.LongTaskTimer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.List;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ToDoubleFunction;
import java.util.stream.IntStream;

/**
 * livemig's Micrometer meters ({@link LivemigMeters}), fed by the engine as its {@link MigrationRecorder} and by the
 * RDMA event loops as their {@link TransportRecorder}. One instance serves a process: give it to the engine
 * ({@code recorder(metrics)}; {@link #transportRecorder()} is this object, so the loops the engine creates report
 * here too) and bind it to one registry.
 *
 * <pre>{@code
 * PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
 * LivemigMetrics metrics = new LivemigMetrics();
 * metrics.bindTo(registry);
 * try (PrometheusEndpoint endpoint = PrometheusEndpoint.start(registry, 9464)) { ... }
 * }</pre>
 *
 * <p>Counts are {@link LongAdder}s published as {@code FunctionCounter}s, so the write path costs an add or two; the
 * migration gauges read the latest progress snapshot. Counters count from construction, so events before
 * {@link #bindTo} are not lost; timers, summaries and the long-task timer record only once bound. Thread-safe.
 */
public final class LivemigMetrics implements MeterBinder, MigrationRecorder, TransportRecorder {

    private static final int SIDES = Side.values().length;
    private static final int MODES = Mode.values().length;
    private static final int OUTCOMES = Outcome.values().length;
    private static final int TYPES = ControlType.values().length;
    private static final int STATUSES = WcStatus.values().length;

    private final Tags commonTags;

    private final CounterCells registeredChunks = new CounterCells(LivemigMeters.REGISTERED_CHUNKS, SIDES * MODES,
            i -> sideMode(i), true);
    private final CounterCells rkeyCacheHits = CounterCells.single(LivemigMeters.RKEY_CACHE_HITS);
    private final CounterCells unregisteredChunks = bySide(LivemigMeters.UNREGISTERED_CHUNKS);
    private final CounterCells rdmaWrites = CounterCells.single(LivemigMeters.RDMA_WRITES);
    private final CounterCells rdmaWriteData = CounterCells.single(LivemigMeters.RDMA_WRITE_DATA);
    private final CounterCells compressData = bySide(LivemigMeters.COMPRESS_DATA);
    private final CounterCells controlMessages = controlCells(LivemigMeters.CONTROL_MESSAGES);
    private final CounterCells controlData = controlCells(LivemigMeters.CONTROL_DATA);
    private final CounterCells qemuFileData = bySide(LivemigMeters.QEMU_FILE_DATA);
    private final CounterCells outcomes = new CounterCells(LivemigMeters.OUTCOMES, SIDES * OUTCOMES,
            i -> sideOutcome(i), true);
    private final CounterCells completions = new CounterCells(LivemigMeters.CQ_COMPLETIONS,
            WcOpcode.values().length * STATUSES, i -> Tags.of(
                    MeterTag.OPCODE.asString(), MeterTag.value(WcOpcode.values()[i / STATUSES]),
                    MeterTag.STATUS.asString(), MeterTag.value(WcStatus.values()[i % STATUSES])), false);
    private final CounterCells eventLoopRuns = new CounterCells(LivemigMeters.EVENT_LOOP_RUNS, 2,
            i -> Tags.of(MeterTag.RUN_TYPE.asString(), MeterTag.RUN_TYPE.tagValues().get(i)), true);
    private final List<CounterCells> counters = List.of(registeredChunks, rkeyCacheHits, unregisteredChunks,
            rdmaWrites, rdmaWriteData, compressData, controlMessages, controlData, qemuFileData, outcomes,
            completions, eventLoopRuns);

    private final LongAdder[] pinned = IntStream.range(0, SIDES).mapToObj(i -> new LongAdder())
            .toArray(LongAdder[]::new);
    private final LongAdder sendQueueOutstanding = new LongAdder();
    private final LongAdder receiveCredits = new LongAdder();
    private volatile MigrationInfo latest = MigrationInfo.NONE;
    /** The mode of the migration each side runs now, for the registration timer's tag. */
    private final AtomicReferenceArray<Mode> modes = new AtomicReferenceArray<>(SIDES);
    /** Per side, the long-task samples of migrations in progress, oldest first. */
    private final List<Queue<LongTaskTimer.Sample>> running = IntStream.range(0, SIDES)
            .<Queue<LongTaskTimer.Sample>>mapToObj(i -> new ConcurrentLinkedQueue<>()).toList();
    /** The registry's meters that need one to record at all; null until bound. */
    private volatile Bound bound;

    /** Meters with no tags beyond their own. */
    public LivemigMetrics() {
        this(Tags.empty());
    }

    /**
     * Meters with extra tags on every one (prefer common tags on the registry).
     *
     * @param extraTags added to every meter; keep their values bounded
     */
    public LivemigMetrics(Iterable<Tag> extraTags) {
        this.commonTags = Tags.of(Objects.requireNonNull(extraTags, "extraTags"));
    }

    /** The timers and summaries, created at binding. */
    private record Bound(Timer[] registration, Timer[] pinAllRegistration, DistributionSummary writeSize,
            Timer writeLatency, LongTaskTimer[] active, Timer[] duration, Timer downtime) {
    }

    /**
     * Registers every meter on the registry. Once only: to publish to several registries, bind a
     * {@code CompositeMeterRegistry}.
     *
     * @param registry the registry
     * @throws IllegalStateException when already bound
     */
    @Override
    public synchronized void bindTo(MeterRegistry registry) {
        if (bound != null) {
            throw new IllegalStateException("LivemigMetrics is bound already; bind a CompositeMeterRegistry to "
                    + "publish to several registries");
        }
        Timer[] registration = new Timer[SIDES * MODES];
        for (int i = 0; i < registration.length; i++) {
            registration[i] = timer(LivemigMeters.REGISTRATION, sideMode(i), registry);
        }
        Timer[] pinAll = new Timer[SIDES];
        LongTaskTimer[] active = new LongTaskTimer[SIDES];
        for (Side side : Side.values()) {
            Tags tags = side(side.ordinal());
            pinAll[side.ordinal()] = timer(LivemigMeters.PIN_ALL_REGISTRATION, tags, registry);
            active[side.ordinal()] = LongTaskTimer.builder(LivemigMeters.ACTIVE.getName())
                    .description(LivemigMeters.ACTIVE.getDescription())
                    .tags(commonTags).tags(tags)
                    .register(registry);
            gauge(LivemigMeters.PINNED_MEMORY, tags, m -> m.pinned[side.ordinal()].sum(), registry);
        }
        Timer[] duration = new Timer[SIDES * OUTCOMES];
        for (int i = 0; i < duration.length; i++) {
            duration[i] = timer(LivemigMeters.DURATION, sideOutcome(i), registry);
        }
        DistributionSummary writeSize = DistributionSummary.builder(LivemigMeters.RDMA_WRITE_SIZE.getName())
                .description(LivemigMeters.RDMA_WRITE_SIZE.getDescription())
                .baseUnit(LivemigMeters.RDMA_WRITE_SIZE.getBaseUnit())
                .tags(commonTags)
                .register(registry);
        bindGauges(registry);
        bound = new Bound(registration, pinAll, writeSize, timer(LivemigMeters.RDMA_WRITE_LATENCY, Tags.empty(),
                registry), active, duration, timer(LivemigMeters.DOWNTIME, Tags.empty(), registry));
        for (CounterCells cells : counters) {
            cells.bindTo(registry, commonTags);
        }
    }

    private void bindGauges(MeterRegistry registry) {
        gauge(LivemigMeters.RAM_SIZE, Tags.empty(), m -> ram(m).total(), registry);
        gauge(LivemigMeters.RAM_REMAINING, Tags.empty(), m -> ram(m).remaining(), registry);
        gauge(LivemigMeters.DIRTY_RATE, Tags.empty(), m -> ram(m).dirtyPagesRate(), registry);
        // QEMU's mbps is megabits (10^6) per second.
        gauge(LivemigMeters.THROUGHPUT, Tags.empty(), m -> ram(m).mbps() * 1_000_000 / 8, registry);
        gauge(LivemigMeters.CPU_THROTTLE, Tags.empty(), m -> m.latest.cpuThrottlePercentage().orElse(0), registry);
        gauge(LivemigMeters.DIRTY_SYNCS, Tags.empty(), m -> ram(m).dirtySyncCount(), registry);
        TimeGauge.builder(LivemigMeters.EXPECTED_DOWNTIME.getName(), this, TimeUnit.MILLISECONDS,
                        m -> m.latest.expectedDowntime().orElse(0))
                .description(LivemigMeters.EXPECTED_DOWNTIME.getDescription())
                .tags(commonTags)
                .strongReference(true)
                .register(registry);
        gauge(LivemigMeters.SEND_QUEUE_OUTSTANDING, Tags.empty(), m -> m.sendQueueOutstanding.sum(), registry);
        gauge(LivemigMeters.RECEIVE_CREDITS, Tags.empty(), m -> m.receiveCredits.sum(), registry);
    }

    private static RamInfo ram(LivemigMetrics metrics) {
        RamInfo ram = metrics.latest.ram();
        return ram == null ? RamInfo.EMPTY : ram;
    }

    private Timer timer(LivemigMeters meter, Tags tags, MeterRegistry registry) {
        return Timer.builder(meter.getName())
                .description(meter.getDescription())
                .tags(commonTags)
                .tags(tags)
                .register(registry);
    }

    /**
     * A gauge over this object, held strongly by the registry: that keeps this binder, and the adders its function
     * counters read through weak references, alive as long as the registry publishes them.
     */
    private void gauge(LivemigMeters meter, Tags tags, ToDoubleFunction<LivemigMetrics> value,
            MeterRegistry registry) {
        Gauge.builder(meter.getName(), this, value)
                .description(meter.getDescription())
                .baseUnit(meter.getBaseUnit())
                .tags(commonTags)
                .tags(tags)
                .strongReference(true)
                .register(registry);
    }

    // MigrationRecorder.

    @Override
    public TransportRecorder transportRecorder() {
        return this;
    }

    @Override
    public void migrationStarted(Side side, Mode mode) {
        modes.set(side.ordinal(), mode);
        Bound meters = bound;
        if (meters != null) {
            running.get(side.ordinal()).add(meters.active[side.ordinal()].start());
        }
    }

    @Override
    public void migrationEnded(Side side, Outcome outcome, long totalNanos, long downtimeNanos) {
        int index = side.ordinal() * OUTCOMES + outcome.ordinal();
        outcomes.increment(index);
        LongTaskTimer.Sample sample = running.get(side.ordinal()).poll();
        if (sample != null) {
            sample.stop();
        }
        Bound meters = bound;
        if (meters != null) {
            meters.duration[index].record(totalNanos, TimeUnit.NANOSECONDS);
            if (downtimeNanos >= 0) {
                meters.downtime.record(downtimeNanos, TimeUnit.NANOSECONDS);
            }
        }
    }

    @Override
    public void progress(MigrationInfo info) {
        latest = info == null ? MigrationInfo.NONE : info;
    }

    @Override
    public void registration(Side side, int chunks, long nanos) {
        Mode mode = modes.get(side.ordinal());
        // Only dynamic registration sends REGISTER REQUESTs: that is the mode when none was announced.
        int index = side.ordinal() * MODES + (mode == null ? Mode.DYNAMIC : mode).ordinal();
        registeredChunks.add(index, chunks);
        Bound meters = bound;
        if (meters != null) {
            meters.registration[index].record(nanos, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void remoteKeyCacheHit() {
        rkeyCacheHits.increment(0);
    }

    @Override
    public void unregistered(Side side, int chunks) {
        unregisteredChunks.add(side.ordinal(), chunks);
    }

    @Override
    public void pinnedBytes(Side side, long deltaBytes) {
        pinned[side.ordinal()].add(deltaBytes);
    }

    @Override
    public void pinAllRegistration(Side side, long bytes, long nanos) {
        Bound meters = bound;
        if (meters != null) {
            meters.pinAllRegistration[side.ordinal()].record(nanos, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void rdmaWritePosted(long bytes) {
        rdmaWrites.increment(0);
        rdmaWriteData.add(0, bytes);
        Bound meters = bound;
        if (meters != null) {
            meters.writeSize.record(bytes);
        }
    }

    @Override
    public void rdmaWriteCompleted(long latencyNanos) {
        Bound meters = bound;
        if (meters != null) {
            meters.writeLatency.record(latencyNanos, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void compressed(Side side, long bytes) {
        compressData.add(side.ordinal(), bytes);
    }

    @Override
    public void controlMessage(Side side, ControlType type, boolean sent, long bytes) {
        int index = (side.ordinal() * TYPES + type.ordinal()) * 2 + (sent ? 0 : 1);
        controlMessages.increment(index);
        controlData.add(index, bytes);
    }

    @Override
    public void qemuFileBytes(Side side, long bytes) {
        qemuFileData.add(side.ordinal(), bytes);
    }

    // TransportRecorder.

    @Override
    public void eventLoopRun(boolean blocked) {
        eventLoopRuns.increment(blocked ? 1 : 0);
    }

    @Override
    public void workCompletion(WcOpcode opcode, WcStatus status) {
        completions.increment(opcode.ordinal() * STATUSES + status.ordinal());
    }

    @Override
    public void sendQueueOutstanding(int delta) {
        sendQueueOutstanding.add(delta);
    }

    @Override
    public void receiveCredits(int delta) {
        receiveCredits.add(delta);
    }

    // Tags of the cell indices.

    private static CounterCells bySide(LivemigMeters meter) {
        return new CounterCells(meter, SIDES, LivemigMetrics::side, true);
    }

    private static CounterCells controlCells(LivemigMeters meter) {
        return new CounterCells(meter, SIDES * TYPES * 2, i -> side(i / (TYPES * 2)).and(
                MeterTag.CONTROL_TYPE.asString(), MeterTag.value(ControlType.values()[i / 2 % TYPES]),
                MeterTag.DIRECTION.asString(), MeterTag.DIRECTION.tagValues().get(i % 2)), false);
    }

    private static Tags side(int side) {
        return Tags.of(MeterTag.SIDE.asString(), Side.values()[side].tag());
    }

    private static Tags sideMode(int index) {
        return side(index / MODES).and(MeterTag.MODE.asString(), Mode.values()[index % MODES].tag());
    }

    private static Tags sideOutcome(int index) {
        return side(index / OUTCOMES).and(MeterTag.OUTCOME.asString(), Outcome.values()[index % OUTCOMES].tag());
    }
}
