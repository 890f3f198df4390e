package io.livemig.migration.source;

import io.livemig.migration.control.Await;
import io.livemig.migration.control.QemuFileOutput;
import io.livemig.migration.control.SourceControl;
import io.livemig.migration.protocol.ControlMessage;
import io.livemig.migration.ram.DirtyPages;
import io.livemig.migration.ram.RamBlock;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.stream.MigrationStreamWriter;
import io.netty.buffer.ByteBufAllocator;
import java.io.DataOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.scheduler.Schedulers;

/**
 * Sends one migration on an established connection, in QEMU's order (spec section 9.2): the stream
 * header and the RAM setup part (block list, RAM BLOCKS exchange), the bulk round (every page), further
 * rounds of what the application dirtied while the remainder is above {@code switchoverBytes}, then the
 * pause, the final round, the non-live state and the end of stream.
 *
 * <p>The source's memory is only read: on failure it is exactly as the application left it. On failure
 * the source sends ERROR (unless the destination's ERROR caused it), releases its registrations and
 * rethrows. Blocking: run it on a dedicated thread, never on an event loop.
 */
public final class MigrationSource {

    /** Name of the section carrying the application's non-live state. */
    public static final String STATE_SECTION = "livemig-state";

    private final SourceControl control;
    private final RdmaDataPath data;
    private final RamBlocks blocks;
    private final boolean pinAll;
    private final ByteBufAllocator allocator;
    private final Duration timeout;
    private final int maxOutstanding;
    private final long switchoverBytes;
    private final int maxRounds;

    /**
     * Creates the source of one migration.
     *
     * @param control the control endpoint of the connection
     * @param data registration and RDMA WRITE on the connection
     * @param blocks the RAM to migrate, in the order announced
     * @param pinAll whether pin-all was negotiated
     * @param allocator buffers for QEMU FILE messages
     * @param timeout how long any one step may wait for the destination
     * @param maxOutstanding most RDMA WRITEs in flight
     * @param switchoverBytes pause and finish once at most this many bytes are dirty
     * @param maxRounds pause and finish after this many rounds even if more is dirty
     */
    public MigrationSource(SourceControl control, RdmaDataPath data, RamBlocks blocks, boolean pinAll,
            ByteBufAllocator allocator, Duration timeout, int maxOutstanding, long switchoverBytes, int maxRounds) {
        this.control = control;
        this.data = data;
        this.blocks = blocks;
        this.pinAll = pinAll;
        this.allocator = allocator;
        this.timeout = timeout;
        this.maxOutstanding = maxOutstanding;
        this.switchoverBytes = switchoverBytes;
        this.maxRounds = maxRounds;
    }

    /**
     * Runs the migration.
     *
     * @param pause pauses the application (called once, before the final round)
     * @param state the non-live state, read after the pause
     * @return the statistics of every round
     * @throws IOException if the connection fails or the destination refuses
     */
    public List<RoundStats> run(Runnable pause, Supplier<byte[]> state) throws IOException {
        return run(pause, state, stats -> { }, () -> false);
    }

    /**
     * The migration as a lazy stream of progress: one {@link RoundStats} per completed round, then
     * completion. It runs on a bounded-elastic worker when subscribed. Cancelling the subscription
     * cancels the migration at the next round boundary: ERROR goes to the destination, registrations are
     * released, and the source's memory is untouched.
     *
     * @param pause pauses the application (called once, before the final round)
     * @param state the non-live state, read after the pause
     * @return the rounds as they complete
     */
    public Flux<RoundStats> migrate(Runnable pause, Supplier<byte[]> state) {
        return Flux.create(sink -> {
            AtomicBoolean cancelled = new AtomicBoolean();
            sink.onDispose(() -> cancelled.set(true));
            Schedulers.boundedElastic().schedule(() -> {
                try {
                    run(pause, state, sink::next, cancelled::get);
                    sink.complete();
                } catch (IOException | RuntimeException e) {
                    sink.error(e);
                }
            });
            // The worker notices cancellation at the next round boundary; it is never interrupted mid-write,
            // so no WRITE is abandoned while the HCA still reads its memory.
            sink.onCancel(() -> cancelled.set(true));
        }, FluxSink.OverflowStrategy.BUFFER);
    }

    /**
     * Runs the migration, reporting each round and stopping at a round boundary when cancelled.
     *
     * @param pause pauses the application
     * @param state the non-live state
     * @param onRound told after each round
     * @param cancelled polled between rounds
     * @return the statistics of every round
     * @throws IOException if the connection fails, the destination refuses, or the migration is cancelled
     */
    public List<RoundStats> run(Runnable pause, Supplier<byte[]> state, Consumer<RoundStats> onRound,
            BooleanSupplier cancelled) throws IOException {
        List<RoundStats> rounds = new ArrayList<>();
        RoundSender sender = null;
        try (QemuFileOutput file = new QemuFileOutput(control, allocator, timeout)) {
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
            sender = new RoundSender(blocks, table, control, data, pinAll, maxOutstanding);
            if (pinAll) {
                sender.registerAllBlocks();
            }
            block(control.send(ControlMessage.registerFinished()));
            writer.endRamPart();

            // The bulk round sends everything; marks made before it are covered by it.
            List<DirtyPages> everything = new ArrayList<>();
            for (RamBlock block : blocks) {
                block.dirtyBitmap().syncAndClear();
                everything.add(DirtyPages.all(block.pages()));
            }
            checkCancelled(cancelled);
            writer.beginRamRound();
            rounds.add(report(round(sender, writer, out, everything), onRound));

            while (rounds.size() < maxRounds && dirtyBytes() > switchoverBytes) {
                checkCancelled(cancelled);
                writer.beginRamRound();
                rounds.add(report(round(sender, writer, out, syncAll()), onRound));
            }

            checkCancelled(cancelled);
            pause.run();
            writer.beginRamFinish();
            rounds.add(report(round(sender, writer, out, syncAll()), onRound));
            writer.writeFullSection(STATE_SECTION, 0, 1, state.get());
            writer.writeEof();
            out.flush();
            return rounds;
        } catch (IOException | RuntimeException e) {
            control.abort(e).block(timeout);
            throw e instanceof IOException io ? io : new IOException("migration failed: " + e.getMessage(), e);
        } finally {
            if (sender != null) {
                sender.close();
            }
        }
    }

    private static RoundStats report(RoundStats stats, Consumer<RoundStats> onRound) {
        onRound.accept(stats);
        return stats;
    }

    private static void checkCancelled(BooleanSupplier cancelled) {
        if (cancelled.getAsBoolean()) {
            throw new CancellationException("migration cancelled");
        }
    }

    private RoundStats round(RoundSender sender, MigrationStreamWriter writer, DataOutputStream out,
            List<DirtyPages> dirty) throws IOException {
        out.flush(); // the HOOK must be the last bytes the destination holds
        RoundStats stats = block(sender.send(dirty));
        block(control.send(ControlMessage.registerFinished()));
        writer.endRamPart();
        return stats;
    }

    private List<DirtyPages> syncAll() {
        List<DirtyPages> dirty = new ArrayList<>();
        for (RamBlock block : blocks) {
            dirty.add(block.dirtyBitmap().syncAndClear());
        }
        return dirty;
    }

    private long dirtyBytes() {
        long pages = 0;
        for (RamBlock block : blocks) {
            pages += block.dirtyBitmap().dirtyPages();
        }
        return pages * RamBlock.PAGE_SIZE;
    }

    private <T> T block(reactor.core.publisher.Mono<T> mono) throws IOException {
        return Await.await(mono, timeout, "the source's control exchange");
    }
}
