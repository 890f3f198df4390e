package io.livemig.migration.api;

import io.livemig.migration.stream.DeviceState;
import java.util.Optional;
import reactor.core.Disposable;
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
     * Holds the application's writes for a moment: the returned {@code Mono} emits once no write is in progress,
     * and none starts until the emitted {@code Disposable} is disposed. The application keeps serving otherwise:
     * reads go on, writes wait (they are not refused). Not {@link #pause()}: nothing is switched over, and the
     * hold ends by itself when the migration disposes it.
     *
     * <p>Called by the migration when its dirty tracker cannot read and clear the written pages in one atomic step
     * (soft-dirty: a write between its {@code pagemap} read and its {@code clear_refs} would be lost): once per
     * pre-copy round after the bulk one, held only while that round's harvest runs (a pagemap read of every block
     * and one {@code clear_refs}: about 0.1 s for 1 GiB of RAM in the lab's emulated guest, see
     * docs/dirty-tracking.md), disposed also when the harvest fails. Never called with userfaultfd
     * write-protection or explicit marks, and not for the final round (the application is paused). The hold must be granted within the migration's timeout; if the
     * subscription is cancelled before it is, the migration disposes a hold that arrives later. Called from the
     * migration's worker thread; the harvest runs on the thread that completes the {@code Mono}, so complete it
     * there (as {@code Mono.fromCallable} does) or on a thread that may block, never on an event loop.
     *
     * @return emits the hold; empty (the default) when the application cannot hold its writes, and the harvest
     *         then runs while it writes and may miss a write (the migration logs a warning once)
     */
    default Mono<Disposable> holdWrites() {
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

    /**
     * A VM's recorded device state to send after the final round instead of the application's state
     * (a VM's memory parked in a livemig destination going back into QEMU). When present, the stream names
     * its machine in the configuration section, gives the RAM section an id the recording does not use, and
     * ends with the recording verbatim: no {@link #saveState()}, no x-verify checksums (a QEMU destination
     * refuses sections it does not know). Read once, when the migration starts.
     *
     * @return the device state, or empty (the default) to send the application's state
     */
    default Optional<DeviceState> deviceState() {
        return Optional.empty();
    }
}
