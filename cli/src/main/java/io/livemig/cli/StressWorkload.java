package io.livemig.cli;

import io.livemig.migration.api.Workload;
import io.livemig.migration.api.WriteGate;
import io.livemig.migration.ram.RamBlock;
import io.livemig.migration.ram.RamBlocks;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * livemig's stand-in for QEMU's documented worst case, {@code stress --vm 1 --vm-bytes N --vm-keep}: one
 * thread rewriting the first {@code vmBytes} of RAM page by page, over and over, as fast as it can or at a
 * set rate. Every write marks its page dirty. It stops on {@link #pause()}, starts again on {@link #resume()},
 * slows down under the auto-converge {@link #throttle(int)} and waits between two batches while a soft-dirty
 * harvest {@linkplain #holdWrites() holds} it (its marks would carry a write racing the harvest anyway; holding
 * keeps it like an application that does not mark, and spares the operator the migration's warning).
 */
final class StressWorkload implements Workload, AutoCloseable {

    /** Pages written between rate and throttle checks when running flat out. */
    private static final int BATCH = 256;

    private final List<RamBlock> pages;
    private final List<Long> pageCounts;
    private final long totalPages;
    private final long bytesPerSecond;
    private final AtomicInteger throttle = new AtomicInteger();
    private final AtomicLong pagesWritten = new AtomicLong();
    private final Object lifecycle = new Object();
    /** Passed by the writer once per batch, shut by a hold. */
    private final WriteGate gate = new WriteGate();
    /** Written only under {@code lifecycle}; read by the writer to know when to stop. */
    private volatile boolean running;
    private Thread writer;
    private long generation;

    /**
     * Creates a stopped workload.
     *
     * @param blocks the RAM; the first {@code vmBytes} of it, in block order, are rewritten
     * @param vmBytes bytes to rewrite ({@code --vm-bytes}); clamped to the RAM's size
     * @param bytesPerSecond target rate ({@code --vm-rate}), 0 for as fast as possible
     */
    StressWorkload(RamBlocks blocks, long vmBytes, long bytesPerSecond) {
        this.pages = new ArrayList<>();
        this.pageCounts = new ArrayList<>();
        long left = Math.min(vmBytes, blocks.totalBytes()) / RamBlock.PAGE_SIZE;
        long total = 0;
        for (RamBlock block : blocks) {
            if (left == 0) {
                break;
            }
            long count = Math.min(left, block.pages());
            pages.add(block);
            pageCounts.add(count);
            total += count;
            left -= count;
        }
        this.totalPages = total;
        this.bytesPerSecond = bytesPerSecond;
    }

    /** Starts the writer (idempotent). */
    void start() {
        synchronized (lifecycle) {
            if (running || totalPages == 0) {
                return;
            }
            running = true;
            long seed = ++generation;
            writer = Thread.ofPlatform().name("stress-workload").daemon().start(() -> run(seed));
        }
    }

    private void stop() {
        Thread stopping;
        synchronized (lifecycle) {
            running = false;
            stopping = writer;
            writer = null;
        }
        if (stopping != null) {
            try {
                stopping.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void run(long seed) {
        int blockIndex = 0;
        long page = 0;
        long value = seed << 40;
        double credit = 0;
        long last = System.nanoTime();
        double pagesPerSecond = bytesPerSecond / (double) RamBlock.PAGE_SIZE;
        while (running) {
            long started = System.nanoTime();
            int budget = BATCH;
            if (bytesPerSecond > 0) {
                credit = Math.min(credit + (started - last) / 1e9 * pagesPerSecond * (100 - throttle.get()) / 100.0,
                        pagesPerSecond); // at most a second of backlog after a stall
                last = started;
                budget = (int) Math.min(credit, BATCH);
                if (budget == 0) {
                    LockSupport.parkNanos(1_000_000);
                    continue;
                }
                credit -= budget;
            }
            gate.enter();
            try {
                for (int i = 0; i < budget; i++) {
                    RamBlock block = pages.get(blockIndex);
                    // One long per page, as stress touches one byte per page: the page is dirty either way.
                    block.putLong(page * RamBlock.PAGE_SIZE, ++value);
                    if (++page == pageCounts.get(blockIndex)) {
                        page = 0;
                        blockIndex = (blockIndex + 1) % pages.size();
                    }
                }
                // Counted inside the gate: a hold granted after this batch sees its pages counted.
                pagesWritten.addAndGet(budget);
            } finally {
                gate.exit();
            }
            int percent = throttle.get();
            if (bytesPerSecond == 0 && percent > 0) {
                // Flat out, a throttle of P percent idles P/(100-P) of the time the batch took.
                LockSupport.parkNanos((System.nanoTime() - started) * percent / (100 - percent));
            }
        }
    }

    @Override
    public Mono<Void> pause() {
        return Mono.fromRunnable(this::stop);
    }

    /** Emits once the batch in progress ended; the writer waits before its next batch until the hold is disposed. */
    @Override
    public Mono<Disposable> holdWrites() {
        return gate.hold();
    }

    @Override
    public void resume() {
        start();
    }

    @Override
    public void throttle(int percent) {
        throttle.set(Math.max(0, Math.min(99, percent)));
    }

    /**
     * Pages written so far.
     *
     * @return the count
     */
    long pagesWritten() {
        return pagesWritten.get();
    }

    /** Stops the writer (idempotent). */
    @Override
    public void close() {
        stop();
    }
}
