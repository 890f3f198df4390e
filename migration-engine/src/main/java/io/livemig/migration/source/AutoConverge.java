package io.livemig.migration.source;

import io.livemig.migration.params.MigrationParameters;

/**
 * QEMU's auto-converge decision ({@code migration_trigger_throttle} and {@code mig_throttle_guest_down}
 * in migration/ram.c): after each dirty sync, if the bytes dirtied during the last round exceed
 * {@code throttle-trigger-threshold} percent of the bytes sent in it, that round counts as "dirty rate
 * high"; every second such round raises the throttle, first to {@code cpu-throttle-initial}, then by
 * {@code cpu-throttle-increment}, never above {@code max-cpu-throttle}.
 */
public final class AutoConverge {

    private int highRounds;
    private int throttle;

    /**
     * Looks at one round.
     *
     * @param parameters the parameters in force
     * @param bytesDirtied bytes dirtied while the round ran
     * @param bytesSent bytes sent in it
     * @return the throttle to apply now (unchanged when no step is due), percent
     */
    public int afterRound(MigrationParameters parameters, long bytesDirtied, long bytesSent) {
        long threshold = bytesSent * parameters.throttleTriggerThreshold() / 100;
        if (bytesDirtied > threshold && ++highRounds >= 2) {
            highRounds = 0;
            throttle = throttle == 0 ? parameters.cpuThrottleInitial()
                    : Math.min(throttle + parameters.cpuThrottleIncrement(), parameters.maxCpuThrottle());
            throttle = Math.min(throttle, parameters.maxCpuThrottle());
        }
        return throttle;
    }

    /**
     * The throttle applied so far.
     *
     * @return percent, 0 when none
     */
    public int throttle() {
        return throttle;
    }
}
