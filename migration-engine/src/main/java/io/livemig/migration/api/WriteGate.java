package io.livemig.migration.api;

import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * One way for an application to offer {@link Workload#holdWrites()}: each write (or batch of writes) passes the
 * gate, and a hold keeps it shut until disposed. Fair, so a writer looping through it cannot starve a hold. The
 * {@code livemig source --stress} workload and the engine's test applications use it.
 */
public final class WriteGate {

    private final Semaphore permit = new Semaphore(1, true);

    /** Waits until no hold is in force, then lets one write (or batch) through; pair with {@link #exit()}. */
    public void enter() {
        permit.acquireUninterruptibly();
    }

    /** Ends the write (or batch) {@link #enter()} let through. */
    public void exit() {
        permit.release();
    }

    /**
     * {@link Workload#holdWrites()}: emits once the write in progress ended; the gate stays shut until the hold is
     * disposed (idempotent, from any thread).
     *
     * @return the hold
     */
    public Mono<Disposable> hold() {
        return Mono.fromCallable(() -> {
            permit.acquire();
            AtomicBoolean released = new AtomicBoolean();
            return () -> {
                if (released.compareAndSet(false, true)) {
                    permit.release();
                }
            };
        });
    }

    /**
     * Whether a writer waits at the gate (for a hold's release).
     *
     * @return true while one waits
     */
    public boolean writerWaits() {
        return permit.hasQueuedThreads();
    }
}
