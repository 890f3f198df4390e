package io.livemig.migration.api;

import reactor.core.publisher.Mono;

/**
 * The application whose memory is migrated, as the source sees it: QEMU's vCPUs and device state.
 * Every method has a do-nothing default, so a plain {@code new Workload() { }} migrates memory nobody
 * writes. Called from the migration's worker thread, never from an event loop.
 */
public interface Workload {

    /**
     * Stops the application writing to its RAM blocks before the final round (QEMU's {@code vm_stop}).
     * The migration waits for the returned {@code Mono}; the pause is what {@code downtime} measures.
     *
     * @return completes once no more writes happen
     */
    default Mono<Void> pause() {
        return Mono.empty();
    }

    /**
     * Lets the application run again after a pause, when the migration fails or is cancelled after it
     * (QEMU restarts the VM on the source). Not called after a completed migration.
     */
    default void resume() {
    }

    /**
     * Auto-converge: slow the application's writes to {@code percent} below its normal rate; 0 lifts the
     * throttle (called when the migration ends, whatever the outcome).
     *
     * @param percent 0 to 99
     */
    default void throttle(int percent) {
    }

    /**
     * The application's non-live state, read once while paused, sent after the final round.
     *
     * @return the state (may be empty)
     */
    default byte[] saveState() {
        return new byte[0];
    }
}
