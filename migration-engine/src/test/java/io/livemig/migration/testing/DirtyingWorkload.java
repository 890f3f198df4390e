package io.livemig.migration.testing;

import io.livemig.migration.api.Workload;
import io.livemig.migration.api.WriteGate;
import io.livemig.migration.ram.RamBlock;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import reactor.core.publisher.Mono;

/**
 * An application that keeps dirtying random pages of a block at a set rate (pages per second, in 1 ms
 * slices), slowed by the auto-converge throttle, held by {@link #holdWrites()}, stopped by pause and restarted by
 * resume. Its rate is a target, not a measurement: tests assert outcomes, never timings.
 */
public final class DirtyingWorkload implements Workload, AutoCloseable {

    private final RamBlock block;
    private final long pagesPerSecond;
    private final AtomicInteger throttle = new AtomicInteger();
    private final AtomicLong pagesWritten = new AtomicLong();
    private final AtomicInteger pauses = new AtomicInteger();
    private final AtomicInteger resumes = new AtomicInteger();
    private final WriteGate gate = new WriteGate();
    private volatile boolean running;
    private Thread thread;
    private long seed = 1;

    /**
     * Creates and starts the workload.
     *
     * @param block the block to dirty
     * @param pagesPerSecond target rate without throttle
     */
    public DirtyingWorkload(RamBlock block, long pagesPerSecond) {
        this.block = block;
        this.pagesPerSecond = pagesPerSecond;
        start();
    }

    private synchronized void start() {
        running = true;
        SplittableRandom random = new SplittableRandom(seed++);
        thread = Thread.ofPlatform().name("dirtying-workload").daemon().start(() -> {
            long pages = block.pages();
            double credit = 0;
            long last = System.nanoTime();
            while (running) {
                long now = System.nanoTime();
                credit += (now - last) / 1e9 * pagesPerSecond * (100 - throttle.get()) / 100.0;
                last = now;
                gate.enter();
                try {
                    while (credit >= 1 && running) {
                        block.putLong(random.nextLong(pages) * RamBlock.PAGE_SIZE + random.nextInt(512) * 8L,
                                random.nextLong());
                        pagesWritten.incrementAndGet();
                        credit--;
                    }
                } finally {
                    gate.exit();
                }
                LockSupport.parkNanos(1_000_000);
            }
        });
    }

    private synchronized void stop() {
        running = false;
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public Mono<Void> pause() {
        return Mono.fromRunnable(() -> {
            pauses.incrementAndGet();
            stop();
        });
    }

    @Override
    public Mono<reactor.core.Disposable> holdWrites() {
        return gate.hold();
    }

    @Override
    public void resume() {
        resumes.incrementAndGet();
        start();
    }

    @Override
    public void throttle(int percent) {
        throttle.set(percent);
    }

    /**
     * The throttle applied now.
     *
     * @return percent
     */
    public int throttle() {
        return throttle.get();
    }

    /**
     * Pages written so far.
     *
     * @return the count
     */
    public long pagesWritten() {
        return pagesWritten.get();
    }

    /**
     * Times paused.
     *
     * @return the count
     */
    public int pauses() {
        return pauses.get();
    }

    /**
     * Times resumed.
     *
     * @return the count
     */
    public int resumes() {
        return resumes.get();
    }

    /**
     * Whether the writer thread runs.
     *
     * @return true while running
     */
    public boolean isRunning() {
        return running && thread.isAlive();
    }

    @Override
    public void close() {
        stop();
    }
}
