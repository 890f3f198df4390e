package io.livemig.migration.api;

import io.livemig.migration.control.Deadlines;
import io.livemig.migration.control.QemuFileOutput;
import io.livemig.migration.control.SourceControl;
import io.livemig.migration.observe.MigrationRecorder;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.protocol.ControlHeader;
import io.livemig.migration.protocol.ControlMessage;
import io.livemig.migration.protocol.ControlType;
import io.livemig.migration.ram.DirtyPages;
import io.livemig.migration.ram.DirtyTracker;
import io.livemig.migration.ram.DirtyTracking;
import io.livemig.migration.ram.DirtyTrackingMode;
import io.livemig.migration.ram.RamBlock;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.source.AutoConverge;
import io.livemig.migration.source.BandwidthLimiter;
import io.livemig.migration.source.RdmaDataPath;
import io.livemig.migration.source.RoundSender;
import io.livemig.migration.source.RoundStats;
import io.livemig.migration.source.SourceBlockTable;
import io.livemig.migration.source.SourceOptions;
import io.livemig.migration.source.SwitchoverEstimate;
import io.livemig.migration.status.MigrationStatus;
import io.livemig.migration.status.MigrationTracker;
import io.livemig.migration.stream.DeviceState;
import io.livemig.migration.stream.MigrationStreamWriter;
import io.livemig.migration.verify.ChunkChecksums;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * One outgoing migration on an established connection as one Reactor pipeline, in QEMU's order (spec
 * section 9.2) and with QEMU's pre-copy policy (migration/migration.c, {@code migration_iteration_run}):
 * <pre>
 * setup      stream header + block list (QEMU FILE) -> RAM BLOCKS exchange -> pin-all -> REGISTER FINISHED
 * rounds     Flux of rounds, each the round sender's page Flux, repeated until the whole expected downtime
 *            (pause, sync, final round, completion: {@link SwitchoverEstimate}) fits downtime-limit
 * switchover pause the application [-> pre-switchover until continued] -> device -> final round
 * state      x-verify checksums, the non-live state (livemig destinations only), end of stream (QEMU FILE)
 * completion the destination closes the connection (an ERROR instead: it refused)
 * </pre>
 * Nothing here blocks a thread: every wait is on the control channel's READY demand, a write's
 * completion, a {@code max-bandwidth} timer or the application's pause, each bounded by the timeout.
 * Work that takes long on large memory (pin-all registration, checksums, the application's state) runs
 * on {@code boundedElastic}, never on the event loop.
 *
 * <p>Cancelling the subscription stops the pipeline where it is: no further write is posted and no
 * further message sent. {@link #writesDrained()} then tells when the writes already posted completed.
 * The source's memory is only read. Sending ERROR, closing the connection and releasing registrations
 * belong to the caller (see {@link SourceMigration}); {@link #release()} deregisters what this pipeline
 * registered.
 */
public final class SourcePipeline {

    /** Name of the section carrying the application's non-live state. */
    public static final String STATE_SECTION = "livemig-state";

    /** What the pipeline tells its owner as it goes. */
    public interface Events {
        /**
         * The migration entered a status (the tracker already shows it).
         *
         * @param status the new status
         */
        default void status(MigrationStatus status) {
        }

        /** A round ended and the tracker holds its figures. */
        default void round() {
        }

        /**
         * Auto-converge changed the throttle.
         *
         * @param percent the new throttle
         */
        default void throttle(int percent) {
        }

        /**
         * The pipeline stopped in {@code pre-switchover} ({@code pause-before-switchover}): the returned Mono
         * completes when the operator continues ({@code migrate-continue pre-switchover}).
         *
         * @return completes when the migration may go on
         */
        default Mono<Void> preSwitchover() {
            return Mono.empty();
        }
    }

    private static final System.Logger LOG = System.getLogger(SourcePipeline.class.getName());

    private final SourceControl control;
    private final RdmaDataPath data;
    private final RamBlocks blocks;
    private final SourceOptions options;
    private final boolean pauseBeforeSwitchover;
    private final DirtyTrackingMode dirtyTrackingMode;
    private final QemuFileOutput file;
    private final MigrationStreamWriter writer;
    private final BandwidthLimiter limiter;
    private final AutoConverge converge = new AutoConverge();
    private final List<RoundStats> rounds = new ArrayList<>();
    private SwitchoverEstimate estimate = new SwitchoverEstimate();
    private RoundSender sender;
    /** Opened and started by the bulk round, closed by {@link #release()}. */
    private volatile DirtyTracker dirtyTracker;
    private boolean converged;
    /** How long this migration's {@code Workload.pause()} took. */
    private long pauseNanos;
    /** When it returned (tracker clock). */
    private long pausedAt;
    private boolean bulkRoundDone;
    /** Opens the bulk round's tracker: {@link DirtyTracking#open} unless a test set another. */
    private Function<RamBlocks, DirtyTracker> openTracker;
    /** Harvests run with the application's writes held ({@link Workload#holdWrites}), and the longest hold. */
    private int holds;
    private long longestHoldNanos;
    /** Whether this migration said that its harvests run without a hold (once is enough). */
    private boolean warnedUnheld;
    /** A VM's recorded device state sent instead of the application's state, or null. */
    private DeviceState deviceState;

    /**
     * Creates the pipeline of one migration; nothing happens until {@link #run} is subscribed.
     *
     * @param control the control endpoint of the connection
     * @param data registration and RDMA WRITE on the connection
     * @param blocks the RAM to migrate, in the order announced
     * @param options how to run it
     * @param pauseBeforeSwitchover whether to stop in {@code pre-switchover} (QEMU's capability)
     * @param dirtyTracking how the rounds learn which pages were written (see {@link DirtyTracking#open})
     */
    public SourcePipeline(SourceControl control, RdmaDataPath data, RamBlocks blocks, SourceOptions options,
            boolean pauseBeforeSwitchover, DirtyTrackingMode dirtyTracking) {
        this.control = control;
        this.data = data;
        this.blocks = blocks;
        this.options = options;
        this.pauseBeforeSwitchover = pauseBeforeSwitchover;
        this.dirtyTrackingMode = Objects.requireNonNull(dirtyTracking, "dirtyTracking");
        this.file = new QemuFileOutput(control, options.allocator());
        this.writer = new MigrationStreamWriter(file.stream());
        this.limiter = new BandwidthLimiter(() -> options.parameters().get().maxBandwidth(), options.timer());
        this.openTracker = ram -> DirtyTracking.open(dirtyTrackingMode, ram, data.pinsMemory());
    }

    /**
     * Creates the pipeline of one migration with {@link DirtyTrackingMode#defaultMode()} dirty tracking.
     *
     * @param control the control endpoint of the connection
     * @param data registration and RDMA WRITE on the connection
     * @param blocks the RAM to migrate, in the order announced
     * @param options how to run it
     * @param pauseBeforeSwitchover whether to stop in {@code pre-switchover} (QEMU's capability)
     */
    public SourcePipeline(SourceControl control, RdmaDataPath data, RamBlocks blocks, SourceOptions options,
            boolean pauseBeforeSwitchover) {
        this(control, data, blocks, options, pauseBeforeSwitchover, DirtyTrackingMode.defaultMode());
    }

    /**
     * Creates the pipeline of one migration without {@code pause-before-switchover}.
     *
     * @param control the control endpoint of the connection
     * @param data registration and RDMA WRITE on the connection
     * @param blocks the RAM to migrate, in the order announced
     * @param options how to run it
     */
    public SourcePipeline(SourceControl control, RdmaDataPath data, RamBlocks blocks, SourceOptions options) {
        this(control, data, blocks, options, false);
    }

    /**
     * Uses an estimate that outlives this migration (the source's), so that the pause and completion measured at
     * this switchover inform the next migration's decision. Call before {@link #run}.
     *
     * @param shared the estimate
     * @return this
     */
    public SourcePipeline switchoverEstimate(SwitchoverEstimate shared) {
        this.estimate = java.util.Objects.requireNonNull(shared, "shared");
        return this;
    }

    /**
     * Visible only for testing: the bulk round opens its tracker with {@code open} instead of
     * {@link DirtyTracking#open} (a tracker whose harvest is not atomic, on a kernel without soft-dirty). The mode
     * given to the constructor still decides where the rounds run. Call before {@link #run}.
     *
     * @param open makes the tracker of the blocks
     * @return this
     */
    SourcePipeline dirtyTracker(Function<RamBlocks, DirtyTracker> open) {
        this.openTracker = Objects.requireNonNull(open, "open");
        return this;
    }

    /**
     * The migration, from the stream header to the destination's close. Subscribe once.
     *
     * @param workload the application: paused before the final round, throttled by auto-converge, asked
     *        for its non-live state
     * @param tracker the counters behind {@code query-migrate}; already {@linkplain MigrationTracker#start
     *        started}
     * @param events told of status changes and rounds
     * @return the statistics of every round, once the destination finished
     */
    public Mono<List<RoundStats>> run(Workload workload, MigrationTracker tracker, Events events) {
        return Mono.defer(() -> {
            countControlBytes(tracker);
            deviceState = workload.deviceState().orElse(null);
            return setup(tracker, events)
                    .thenMany(precopyRounds(workload, tracker, events))
                    .then(switchover(workload, tracker, events))
                    .then(Mono.defer(() -> {
                        long finalRoundDone = tracker.nanoTime();
                        return nonLiveState(workload)
                                .then(Mono.defer(() -> within(control.peerFinished(), "the destination's load")))
                                .doOnSuccess(done -> {
                                    long completion = tracker.nanoTime() - finalRoundDone;
                                    estimate.switchedOver(pauseNanos, completion);
                                    // What the downtime was made of, against what the decision expected.
                                    LOG.log(System.Logger.Level.INFO, () -> "source: switchover took: pause "
                                            + pauseNanos / 1_000_000 + " ms, sync and final round "
                                            + (finalRoundDone - pausedAt) / 1_000_000 + " ms, completion "
                                            + completion / 1_000_000 + " ms");
                                });
                    }))
                    .then(Mono.fromSupplier(() -> List.copyOf(rounds)))
                    .doOnSuccess(done -> release())
                    // QEMU: "Early error. Sending error." then disconnect; the caller closes the connection.
                    .onErrorResume(error -> abort(error)
                            .then(Mono.defer(() -> within(writesDrained(), "draining the posted writes")))
                            .onErrorResume(ignored -> Mono.empty())
                            .then(Mono.fromRunnable(this::release))
                            .then(Mono.error(() -> failure(error, tracker))));
        });
    }

    /**
     * Stops a migration whose {@link #run} subscription was cancelled: sends ERROR (no READY needed, as
     * QEMU's cancel), closes the connection so that the writes still posted are flushed, waits for their
     * completions, then deregisters. Never fails.
     *
     * @param cause why (the control endpoint's failure from now on)
     * @param closeConnection closes the connection
     * @return completes when the memory is no longer registered
     */
    public Mono<Void> cancel(Throwable cause, Mono<Void> closeConnection) {
        return abort(cause)
                .then(closeConnection.onErrorResume(ignored -> Mono.empty()))
                .then(Mono.defer(() -> within(writesDrained(), "draining the posted writes")))
                .onErrorResume(ignored -> Mono.empty())
                .doFinally(signal -> release());
    }

    private Mono<Void> abort(Throwable cause) {
        return within(control.abort(cause), "sending ERROR").onErrorResume(ignored -> Mono.empty());
    }

    /** What the migration failed with, as the caller reports it. */
    private Throwable failure(Throwable error, MigrationTracker tracker) {
        Throwable e = error instanceof UncheckedIOException unchecked ? unchecked.getCause() : error;
        if (control.receivedError() && tracker.pausedAt() >= 0) {
            return new IOException("the destination refused the migration after the final round (with x-verify: "
                    + "its memory differs; see the destination's log)", e);
        }
        if (e instanceof io.livemig.migration.protocol.ProtocolException) {
            // Its own words say what the peer did; the caller adds "migration failed: " once.
            return new IOException(e.getMessage(), e);
        }
        return e instanceof IOException ? e : new IOException("migration failed: " + e.getMessage(), e);
    }

    /** Every control byte counts against max-bandwidth and in {@code transferred}, as QEMU counts them. */
    private void countControlBytes(MigrationTracker tracker) {
        MigrationRecorder recorder = options.recorder();
        control.onBytesSent((type, bytes) -> {
            limiter.consume(bytes);
            tracker.transferred(bytes);
            recorder.controlMessage(MigrationRecorder.Side.SOURCE, type, true, bytes);
            if (type == ControlType.QEMU_FILE) {
                recorder.qemuFileBytes(MigrationRecorder.Side.SOURCE, bytes - ControlHeader.SIZE);
            }
        });
        control.onBytesReceived((type, bytes) -> recorder.controlMessage(MigrationRecorder.Side.SOURCE, type, false,
                bytes));
    }

    /** Stream header and block list, the RAM BLOCKS exchange, pin-all, REGISTER FINISHED: QEMU's setup. */
    private Mono<Void> setup(MigrationTracker tracker, Events events) {
        return Mono.fromRunnable(() -> io(() -> {
                    if (deviceState != null) {
                        writer.writeHeader(deviceState.machine());
                        writer.ramSectionId(deviceState.freeSectionId());
                    } else {
                        writer.writeHeader();
                    }
                    writer.beginRamSetup(blocks.blockList());
                }))
                .then(Mono.defer(this::flushStream))
                .then(Mono.defer(() -> within(control.exchange(ControlMessage.ramBlocksRequest()),
                        "the source's control exchange")))
                .map(result -> {
                    try {
                        return SourceBlockTable.check(blocks, result.remoteBlocks());
                    } finally {
                        result.release();
                    }
                })
                .flatMap(table -> {
                    sender = new RoundSender(blocks, table, control, data, options.pinAll(), options.maxOutstanding(),
                            limiter, options.recorder(), options.registrationBatch())
                            .writeTimeout(options.timeout(), options.timer())
                            .pinnedBudget(() -> options.parameters().get().maxPinnedBytes());
                    if (options.pinAll() && options.parameters().get().maxPinnedBytes() > 0) {
                        // Pin-all registers every block whole before the first write: no budget can be honoured.
                        return Mono.error(new IllegalStateException("max-pinned-bytes ("
                                + options.parameters().get().maxPinnedBytes() + ") cannot be honoured with"
                                + " rdma-pin-all, which registers all RAM; set max-pinned-bytes 0 or turn rdma-pin-all"
                                + " off"));
                    }
                    if (!options.pinAll()) {
                        return Mono.empty();
                    }
                    // Registering whole blocks pins gigabytes: never on the event loop.
                    return Mono.fromRunnable(() -> io(sender::registerAllBlocks))
                            .subscribeOn(Schedulers.boundedElastic()).then();
                })
                .then(Mono.defer(() -> within(control.send(ControlMessage.registerFinished()),
                        "the source's control exchange")))
                .then(Mono.fromRunnable(() -> {
                    io(writer::endRamPart);
                    status(tracker, events, MigrationStatus.ACTIVE);
                }));
    }

    /**
     * The pre-copy rounds as a Flux: the bulk round sends every page, then each round sends what the
     * application dirtied during the previous one, until QEMU's switchover test passes.
     */
    private Flux<RoundStats> precopyRounds(Workload workload, MigrationTracker tracker, Events events) {
        return offTheLoop(Mono.defer(() -> precopyRound(workload, tracker, events))).repeat(() -> !converged);
    }

    /**
     * The kernel's trackers arm, scan and re-protect whole blocks (a PAGEMAP_SCAN over gigabytes takes a good part
     * of a second): never on the event loop that polls the completions the round waits for. The explicit bitmap's
     * scan is cheap and stays where it is (the virtual-time tests rely on that).
     */
    private <T> Mono<T> offTheLoop(Mono<T> step) {
        return dirtyTrackingMode == DirtyTrackingMode.EXPLICIT ? step : step.subscribeOn(Schedulers.boundedElastic());
    }

    private Mono<RoundStats> precopyRound(Workload workload, MigrationTracker tracker, Events events) {
        if (!bulkRoundDone) {
            // The bulk round sends everything; writes made before it are covered by it, so tracking starts here.
            bulkRoundDone = true;
            DirtyTracker tracking = openTracker.apply(blocks);
            dirtyTracker = tracking;
            LOG.log(System.Logger.Level.INFO, () -> "source: " + DirtyTracking.describe(tracking));
            tracking.start();
            List<DirtyPages> dirty = new ArrayList<>();
            for (RamBlock block : blocks) {
                dirty.add(DirtyPages.all(block.pages()));
            }
            tracker.dirtySync(blocks.totalBytes());
            return precopyRound(dirty, true, workload, tracker, events);
        }
        if (!dirtyTracker.atomicHarvest()) {
            return heldSync(workload, tracker).flatMap(dirty -> precopyRound(dirty, false, workload, tracker, events));
        }
        return precopyRound(timedSync(tracker), false, workload, tracker, events);
    }

    /** A harvest whose duration feeds the switchover estimate. */
    private List<DirtyPages> timedSync(MigrationTracker tracker) {
        long syncStarted = tracker.nanoTime();
        List<DirtyPages> dirty = syncAll(tracker);
        estimate.dirtySync(tracker.nanoTime() - syncStarted);
        return dirty;
    }

    /**
     * A step the application takes (its pause, a hold of its writes) bounded by the migration's timeout. The
     * application's own slowness is no peer timeout: not a TimeoutException for the failure's class.
     */
    private <T> Mono<T> applicationStep(Mono<T> step, String what) {
        return within(step, what).onErrorMap(e -> e.getCause() instanceof java.util.concurrent.TimeoutException,
                e -> new IllegalStateException(e.getMessage()));
    }

    /**
     * The harvest of a tracker that reads and then clears in two steps (soft-dirty), with the application's writes
     * held around it: a write landing between the read and the clear would be in no snapshot and never sent. The
     * hold lasts the harvest only. Without a hold (the application cannot) the harvest runs as it is, and the
     * migration says once that it may miss a write.
     */
    private Mono<List<DirtyPages>> heldSync(Workload workload, MigrationTracker tracker) {
        return applicationStep(workload.holdWrites(), "holding the application's writes")
                .map(hold -> {
                    long held = tracker.nanoTime();
                    List<DirtyPages> dirty;
                    try {
                        dirty = timedSync(tracker);
                    } finally {
                        hold.dispose();
                    }
                    long nanos = tracker.nanoTime() - held;
                    holds++;
                    longestHoldNanos = Math.max(longestHoldNanos, nanos);
                    LOG.log(System.Logger.Level.DEBUG, () -> "source: the harvest held the application's writes for "
                            + nanos / 1_000 + " us");
                    return dirty;
                })
                .switchIfEmpty(Mono.fromSupplier(() -> {
                    if (!warnedUnheld) {
                        warnedUnheld = true;
                        // Said where an operator reads it, not only in the docs.
                        LOG.log(System.Logger.Level.WARNING, () -> "source: " + dirtyTracker.mode() + " tracking "
                                + "reads and clears in two steps and the application cannot hold its writes around "
                                + "them (Workload.holdWrites): a write between the two is lost; keep x-verify on");
                    }
                    return timedSync(tracker);
                }))
                // A hold granted after the timeout or a cancel dropped its subscriber is released, never kept.
                .doOnDiscard(Disposable.class, Disposable::dispose);
    }

    /** How long the harvests held the application's writes, for the switchover line; empty when none did. */
    private String holdSummary() {
        return holds == 0 ? "" : ", writes held for " + holds + (holds == 1 ? " harvest" : " harvests") + ", longest "
                + longestHoldNanos / 1_000_000 + " ms";
    }

    /** One pre-copy round of the pages harvested, then QEMU's switchover test and auto-converge. */
    private Mono<RoundStats> precopyRound(List<DirtyPages> dirty, boolean bulk, Workload workload,
            MigrationTracker tracker, Events events) {
        io(writer::beginRamRound);
        long started = tracker.nanoTime();
        long transferredBefore = tracker.snapshot().ram().transferred();
        Mono<RoundStats> round = sendRound(dirty, tracker);
        if (dirtyTrackingMode != DirtyTrackingMode.EXPLICIT) {
            // dirtyPages() below scans the blocks too: not on the loop that completed the round.
            round = round.publishOn(Schedulers.boundedElastic());
        }
        return round.map(stats -> {
            long nanos = Math.max(1, tracker.nanoTime() - started);
            long sent = tracker.snapshot().ram().transferred() - transferredBefore;
            long dirtyBytes = dirtyPages() * RamBlock.PAGE_SIZE;
            MigrationParameters parameters = options.parameters().get();
            long bandwidth = (long) (sent * 1e9 / nanos);
            estimate.round(stats.normalPages() + stats.duplicatePages(), nanos, bulk);
            long expectedDowntime = estimate.expectedDowntimeMillis(dirtyBytes, parameters.availSwitchoverBandwidth(),
                    bandwidth);
            tracker.remaining(dirtyBytes);
            tracker.rates(bandwidth, (long) (dirtyBytes / RamBlock.PAGE_SIZE * 1e9 / nanos),
                    (long) (stats.normalPages() * 1e9 / nanos), expectedDowntime);
            events.round();
            converged = estimate.fits(dirtyBytes, parameters.availSwitchoverBandwidth(), bandwidth,
                    parameters.downtimeLimit());
            if (converged) {
                LOG.log(System.Logger.Level.INFO, () -> "source: switching over, expected downtime "
                        + expectedDowntime + " ms of " + parameters.downtimeLimit() + " (" + estimate + ", "
                        + dirtyBytes / RamBlock.PAGE_SIZE + " dirty pages" + holdSummary() + ")");
            }
            if (!converged && options.autoConverge()) {
                int before = converge.throttle();
                int throttle = converge.afterRound(parameters, dirtyBytes, sent);
                if (throttle != before) {
                    tracker.throttle(throttle);
                    workload.throttle(throttle);
                    events.throttle(throttle);
                }
            }
            return stats;
        });
    }

    /** Pause, optionally stop in pre-switchover, then the final round in {@code device}. */
    private Mono<Void> switchover(Workload workload, MigrationTracker tracker, Events events) {
        return Mono.defer(() -> {
            tracker.pausing();
            long pausing = tracker.nanoTime();
            return applicationStep(workload.pause(), "pausing the application")
                    .doOnSuccess(paused -> {
                        pausedAt = tracker.nanoTime();
                        pauseNanos = pausedAt - pausing;
                    });
        }).then(Mono.defer(() -> {
            if (!pauseBeforeSwitchover) {
                return Mono.empty();
            }
            status(tracker, events, MigrationStatus.PRE_SWITCHOVER);
            return events.preSwitchover();
        })).then(offTheLoop(Mono.defer(() -> {
            status(tracker, events, MigrationStatus.DEVICE);
            List<DirtyPages> last = syncAll(tracker);
            io(writer::beginRamFinish);
            return sendRound(last, tracker);
        }))).doOnNext(stats -> tracker.remaining(0)).then();
    }

    /** The x-verify checksums and the application's state, then the end of stream; or a VM's device state. */
    private Mono<Void> nonLiveState(Workload workload) {
        return Mono.fromRunnable(() -> io(() -> {
                    if (deviceState != null) {
                        writer.writeDeviceState(deviceState);
                        return;
                    }
                    if (options.verify()) {
                        writer.writeFullSection(ChunkChecksums.SECTION, 0, 1, ChunkChecksums.compute(blocks).encode());
                    }
                    if (options.livemigPeer()) {
                        // A QEMU destination fails on a section it does not know ("Unknown savevm section").
                        writer.writeFullSection(STATE_SECTION, 0, 1, workload.saveState());
                    }
                    writer.writeEof();
                }))
                // Checksums read all of memory and the state is the application's: off the event loop.
                .subscribeOn(Schedulers.boundedElastic())
                .then(Mono.defer(this::flushStream));
    }

    /** One RAM part: the stream up to its HOOK, the pages, REGISTER FINISHED, the part's end marker. */
    private Mono<RoundStats> sendRound(List<DirtyPages> dirty, MigrationTracker tracker) {
        // The HOOK must be the last bytes the destination holds before its registration loop runs.
        return flushStream()
                .then(Mono.defer(() -> sender.send(dirty, tracker::written)))
                .flatMap(stats -> {
                    rounds.add(stats);
                    tracker.duplicatePages(stats.duplicatePages());
                    // REGISTER FINISHED waits for the READY the destination gives once it processed the HOOK's
                    // part: one control exchange, as each step of the completion is.
                    long finishing = tracker.nanoTime();
                    return within(control.send(ControlMessage.registerFinished()), "the source's control exchange")
                            .doOnSuccess(sent -> estimate.exchange(tracker.nanoTime() - finishing))
                            .then(Mono.fromRunnable(() -> io(writer::endRamPart)))
                            .thenReturn(stats);
                });
    }

    /**
     * Completes when every RDMA WRITE posted so far completed (or was flushed by the connection's close).
     *
     * @return completes when none is in flight; never fails
     */
    public Mono<Void> writesDrained() {
        return Mono.defer(() -> sender == null ? Mono.empty() : sender.drained());
    }

    /**
     * Writes posted and not yet completed (for tests and diagnostics).
     *
     * @return the count
     */
    public int writesInFlight() {
        return sender == null ? 0 : sender.writesInFlight();
    }

    /** Deregisters the local registrations and drops unsent stream bytes (idempotent). */
    public void release() {
        control.onBytesSent(null);
        control.onBytesReceived(null);
        file.close();
        if (sender != null) {
            sender.close();
        }
        // Lifts the write-protection: the application writes at full speed again.
        DirtyTracker tracking = dirtyTracker;
        if (tracking != null) {
            tracking.close();
        }
    }

    /** Enters a status, unless a cancel already moved the tracker to cancelling. */
    private static void status(MigrationTracker tracker, Events events, MigrationStatus status) {
        if (tracker.status() != MigrationStatus.CANCELLING) {
            tracker.status(status);
            events.status(status);
        }
    }

    private List<DirtyPages> syncAll(MigrationTracker tracker) {
        List<DirtyPages> dirty = new ArrayList<>();
        long pages = 0;
        for (DirtyPages snapshot : dirtyTracker.syncAndClear()) {
            pages += snapshot.count();
            dirty.add(snapshot);
        }
        tracker.dirtySync(pages * RamBlock.PAGE_SIZE);
        return dirty;
    }

    private long dirtyPages() {
        return dirtyTracker.dirtyPages();
    }

    /**
     * The dirty tracking this migration uses, once its bulk round started.
     *
     * @return for example {@code "dirty tracking: uffd-wp (auto: available)"}; empty before the bulk round
     */
    public Optional<String> dirtyTracking() {
        DirtyTracker tracking = dirtyTracker;
        return tracking == null ? Optional.empty() : Optional.of(DirtyTracking.describe(tracking));
    }

    /** The stream written so far, each message against a READY, each READY within the timeout. */
    private Mono<Void> flushStream() {
        return file.flush(send -> within(send, "sending the migration stream"));
    }

    private <T> Mono<T> within(Mono<T> step, String what) {
        return Deadlines.within(step, options.timeout(), options.timer(), what);
    }

    /** A step that writes to the in-memory stream or registers memory. */
    @FunctionalInterface
    private interface IoStep {
        void run() throws IOException;
    }

    private static void io(IoStep step) {
        try {
            step.run();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
