package io.livemig.migration.source;

import io.livemig.migration.control.Await;
import io.livemig.migration.control.QemuFileOutput;
import io.livemig.migration.control.SourceControl;
import io.livemig.migration.api.Workload;
import io.livemig.migration.observe.MigrationRecorder;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.protocol.ControlHeader;
import io.livemig.migration.protocol.ControlMessage;
import io.livemig.migration.protocol.ControlType;
import io.livemig.migration.ram.DirtyPages;
import io.livemig.migration.ram.RamBlock;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.status.MigrationStatus;
import io.livemig.migration.status.MigrationTracker;
import io.livemig.migration.stream.MigrationStreamWriter;
import io.livemig.migration.verify.ChunkChecksums;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import reactor.core.publisher.Mono;

/**
 * Sends one migration on an established connection, in QEMU's order (spec section 9.2) and with QEMU's
 * pre-copy policy (migration/migration.c, {@code migration_iteration_run}):
 * <ol>
 *   <li>setup: the stream header and the RAM setup part (block list, RAM BLOCKS exchange, pin-all);</li>
 *   <li>the bulk round sends every page;</li>
 *   <li>after each round the engine measures the bandwidth it achieved and the pages the application
 *       dirtied meanwhile; when the dirty bytes would go within {@code downtime-limit} at that bandwidth
 *       (or at {@code avail-switchover-bandwidth}) it switches over, else it syncs the dirty bitmap and
 *       sends another round, throttling the application first when auto-converge says so;</li>
 *   <li>switchover: pause the application, sync, send the final round, the {@code x-verify} checksums
 *       when enabled, the non-live state and the end of stream, then wait for the destination to close
 *       the connection (its load finished; an ERROR instead means it refused the result).</li>
 * </ol>
 * Every page write and control message counts against {@code max-bandwidth} ({@link BandwidthLimiter}).
 *
 * <p>The source's memory is only read: on failure it is exactly as the application left it. On failure
 * the source sends ERROR (unless the destination's ERROR caused it), releases its registrations and
 * rethrows; resuming and un-throttling the application is the caller's part. Blocking: run it on a
 * dedicated thread, never on an event loop.
 */
public final class MigrationSource {

    /** Name of the section carrying the application's non-live state. */
    public static final String STATE_SECTION = "livemig-state";

    /** What the source tells its caller as it goes. */
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
    }

    private final SourceControl control;
    private final RdmaDataPath data;
    private final RamBlocks blocks;
    private final SourceOptions options;

    /**
     * Creates the source of one migration.
     *
     * @param control the control endpoint of the connection
     * @param data registration and RDMA WRITE on the connection
     * @param blocks the RAM to migrate, in the order announced
     * @param options how to run it
     */
    public MigrationSource(SourceControl control, RdmaDataPath data, RamBlocks blocks, SourceOptions options) {
        this.control = control;
        this.data = data;
        this.blocks = blocks;
        this.options = options;
    }

    /**
     * Runs the migration to its end.
     *
     * @param workload the application: paused before the final round, throttled by auto-converge, asked
     *        for its non-live state
     * @param tracker the counters behind {@code query-migrate}; already {@linkplain MigrationTracker#start
     *        started}
     * @param events told of status changes and rounds
     * @param cancelled polled before every write and between rounds
     * @return the statistics of every round
     * @throws IOException if the connection fails, the destination refuses, or the migration is cancelled
     *         ({@link CancellationException} as the cause)
     */
    public List<RoundStats> run(Workload workload, MigrationTracker tracker, Events events, BooleanSupplier cancelled)
            throws IOException {
        List<RoundStats> rounds = new ArrayList<>();
        BandwidthLimiter limiter = new BandwidthLimiter(() -> options.parameters().get().maxBandwidth(),
                options.timer());
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
        RoundSender sender = null;
        try (QemuFileOutput file = new QemuFileOutput(control, options.allocator(), options.timeout())) {
            DataOutputStream out = new DataOutputStream(file);
            MigrationStreamWriter writer = new MigrationStreamWriter(out);
            writer.writeHeader();
            writer.beginRamSetup(blocks.blockList());
            out.flush();
            ControlMessage result = block(control.exchange(ControlMessage.ramBlocksRequest()));
            SourceBlockTable table;
            try {
                table = SourceBlockTable.check(blocks, result.remoteBlocks());
            } finally {
                result.release();
            }
            sender = new RoundSender(blocks, table, control, data, options.pinAll(), options.maxOutstanding(),
                    limiter, recorder, options.registrationBatch());
            if (options.pinAll()) {
                sender.registerAllBlocks();
            }
            block(control.send(ControlMessage.registerFinished()));
            writer.endRamPart();
            status(tracker, events, MigrationStatus.ACTIVE);

            // The bulk round sends everything; marks made before it are covered by it.
            List<DirtyPages> everything = new ArrayList<>();
            for (RamBlock block : blocks) {
                block.dirtyBitmap().syncAndClear();
                everything.add(DirtyPages.all(block.pages()));
            }
            tracker.dirtySync(blocks.totalBytes());
            AutoConverge converge = new AutoConverge();
            List<DirtyPages> next = everything;
            while (true) {
                checkCancelled(cancelled);
                writer.beginRamRound();
                long started = System.nanoTime();
                long transferredBefore = tracker.snapshot().ram().transferred();
                RoundStats stats = round(sender, writer, out, next, cancelled, tracker);
                checkCancelled(cancelled);
                rounds.add(stats);
                long nanos = Math.max(1, System.nanoTime() - started);
                long sent = tracker.snapshot().ram().transferred() - transferredBefore;
                long dirtyBytes = dirtyPages() * RamBlock.PAGE_SIZE;
                MigrationParameters parameters = options.parameters().get();
                long bandwidth = (long) (sent * 1e9 / nanos);
                long switchover = parameters.availSwitchoverBandwidth() > 0 ? parameters.availSwitchoverBandwidth()
                        : Math.max(1, bandwidth);
                long expectedDowntime = (long) Math.ceil(dirtyBytes * 1000.0 / switchover);
                tracker.remaining(dirtyBytes);
                tracker.rates(bandwidth, (long) (dirtyBytes / RamBlock.PAGE_SIZE * 1e9 / nanos),
                        (long) (stats.normalPages() * 1e9 / nanos), expectedDowntime);
                events.round();
                if (expectedDowntime <= parameters.downtimeLimit()) {
                    break;
                }
                if (options.autoConverge()) {
                    int before = converge.throttle();
                    int throttle = converge.afterRound(parameters, dirtyBytes, sent);
                    if (throttle != before) {
                        tracker.throttle(throttle);
                        workload.throttle(throttle);
                        events.throttle(throttle);
                    }
                }
                next = syncAll(tracker);
            }

            checkCancelled(cancelled);
            status(tracker, events, MigrationStatus.PRE_SWITCHOVER);
            Await.await(workload.pause(), options.timeout(), "pausing the application");
            status(tracker, events, MigrationStatus.DEVICE);
            List<DirtyPages> last = syncAll(tracker);
            writer.beginRamFinish();
            rounds.add(round(sender, writer, out, last, () -> false, tracker));
            tracker.remaining(0);
            if (options.verify()) {
                writer.writeFullSection(ChunkChecksums.SECTION, 0, 1, ChunkChecksums.compute(blocks).encode());
            }
            writer.writeFullSection(STATE_SECTION, 0, 1, workload.saveState());
            writer.writeEof();
            out.flush();
            // The destination closes the connection once its load finished (QEMU's as well); an ERROR instead
            // means it refused what it received (x-verify found a difference, or the state would not load).
            block(control.peerFinished());
            return rounds;
        } catch (IOException | RuntimeException e) {
            control.abort(e).block(options.timeout());
            if (e instanceof CancellationException cancel) {
                throw new IOException("migration cancelled", cancel);
            }
            if (control.receivedError() && tracker.pausedAt() >= 0) {
                throw new IOException("the destination refused the migration after the final round (with x-verify: "
                        + "its memory differs; see the destination's log)", e);
            }
            throw e instanceof IOException io ? io : new IOException("migration failed: " + e.getMessage(), e);
        } finally {
            control.onBytesSent(null);
            control.onBytesReceived(null);
            if (sender != null) {
                sender.close();
            }
        }
    }

    /** Enters a status, unless a cancel already moved the tracker to cancelling. */
    private static void status(MigrationTracker tracker, Events events, MigrationStatus status) {
        if (tracker.status() != MigrationStatus.CANCELLING) {
            tracker.status(status);
            events.status(status);
        }
    }

    private static void checkCancelled(BooleanSupplier cancelled) {
        if (cancelled.getAsBoolean()) {
            throw new CancellationException("migration cancelled");
        }
    }

    private RoundStats round(RoundSender sender, MigrationStreamWriter writer, DataOutputStream out,
            List<DirtyPages> dirty, BooleanSupplier cancelled, MigrationTracker tracker) throws IOException {
        out.flush(); // the HOOK must be the last bytes the destination holds
        RoundStats stats = block(sender.send(dirty, cancelled, tracker::written));
        tracker.duplicatePages(stats.duplicatePages());
        block(control.send(ControlMessage.registerFinished()));
        writer.endRamPart();
        return stats;
    }

    private List<DirtyPages> syncAll(MigrationTracker tracker) {
        List<DirtyPages> dirty = new ArrayList<>();
        long pages = 0;
        for (RamBlock block : blocks) {
            DirtyPages snapshot = block.dirtyBitmap().syncAndClear();
            pages += snapshot.count();
            dirty.add(snapshot);
        }
        tracker.dirtySync(pages * RamBlock.PAGE_SIZE);
        return dirty;
    }

    private long dirtyPages() {
        long pages = 0;
        for (RamBlock block : blocks) {
            pages += block.dirtyBitmap().dirtyPages();
        }
        return pages;
    }

    private <T> T block(Mono<T> mono) throws IOException {
        return Await.await(mono, options.timeout(), "the source's control exchange");
    }
}
