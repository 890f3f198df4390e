package io.livemig.migration.params;

/**
 * The migration parameters livemig honours, with QEMU's QMP names, units and defaults (spec section
 * 11.2). Immutable: a change makes a new value ({@code withX}); the source applies a new
 * {@code max-bandwidth} even mid-migration.
 *
 * @param maxBandwidth {@code max-bandwidth}: hard cap on RDMA-written plus control bytes, bytes/s
 * @param downtimeLimit {@code downtime-limit}: the longest acceptable pause, milliseconds
 * @param availSwitchoverBandwidth {@code avail-switchover-bandwidth}: bytes/s assumed for the switchover
 *        decision, 0 to use the measured bandwidth
 * @param throttleTriggerThreshold {@code throttle-trigger-threshold}: percent of the bytes sent in a round
 *        that, when dirtied again during it, counts towards throttling
 * @param cpuThrottleInitial {@code cpu-throttle-initial}: first auto-converge throttle, percent
 * @param cpuThrottleIncrement {@code cpu-throttle-increment}: each further step, percent
 * @param maxCpuThrottle {@code max-cpu-throttle}: the ceiling, percent
 * @param maxPinnedBytes {@code max-pinned-bytes} (livemig's own, not QEMU's): the most bytes of RAM the source keeps
 *        registered at the destination and locally in dynamic mode, evicting the least recently written chunks with
 *        UNREGISTER REQUEST; 0 for no limit (QEMU's behaviour: every chunk stays registered to the end)
 * @param multifdChannels {@code multifd-channels}: RC connections per migration when the {@code multifd} capability
 *        is on and the destination is livemig, 1 to 255 (QEMU's default 2); ignored otherwise
 */
public record MigrationParameters(long maxBandwidth, long downtimeLimit, long availSwitchoverBandwidth,
        int throttleTriggerThreshold, int cpuThrottleInitial, int cpuThrottleIncrement, int maxCpuThrottle,
        long maxPinnedBytes, int multifdChannels) {

    /** QEMU's MAX_THROTTLE: 128 MiB/s. */
    public static final long DEFAULT_MAX_BANDWIDTH = 128L << 20;
    /** QEMU's default downtime limit, ms. */
    public static final long DEFAULT_DOWNTIME_LIMIT = 300;
    /** QEMU's MAX_MIGRATE_DOWNTIME_SECONDS: 2000 s. */
    public static final long MAX_DOWNTIME_LIMIT = 2000 * 1000;

    /** The smallest {@code max-pinned-bytes}: one 1 MiB chunk. */
    public static final long MIN_PINNED_BYTES = 1L << 20;

    /** QEMU's default {@code multifd-channels}. */
    public static final int DEFAULT_MULTIFD_CHANNELS = 2;

    /** QEMU's defaults. */
    public static final MigrationParameters DEFAULTS = new MigrationParameters(DEFAULT_MAX_BANDWIDTH,
            DEFAULT_DOWNTIME_LIMIT, 0, 50, 20, 10, 99, 0, DEFAULT_MULTIFD_CHANNELS);

    /**
     * Checks every value as QEMU's {@code migrate_params_check} does, with its messages.
     *
     * @throws IllegalArgumentException naming the parameter and its range
     */
    public MigrationParameters {
        if (maxBandwidth < 0) {
            throw range("max_bandwidth", "0 to " + Long.MAX_VALUE + " bytes/second");
        }
        if (downtimeLimit < 0 || downtimeLimit > MAX_DOWNTIME_LIMIT) {
            throw range("downtime_limit", "0 to 2000 seconds");
        }
        if (availSwitchoverBandwidth < 0) {
            throw range("avail_switchover_bandwidth", "0 to " + Long.MAX_VALUE + " bytes/second");
        }
        if (throttleTriggerThreshold < 1 || throttleTriggerThreshold > 100) {
            throw range("throttle_trigger_threshold", "1 to 100");
        }
        if (cpuThrottleInitial < 1 || cpuThrottleInitial > 99) {
            throw range("cpu_throttle_initial", "1 to 99");
        }
        if (cpuThrottleIncrement < 1 || cpuThrottleIncrement > 99) {
            throw range("cpu_throttle_increment", "1 to 99");
        }
        if (maxCpuThrottle < 1 || maxCpuThrottle > 99) {
            throw range("max_cpu_throttle", "1 to 99");
        }
        if (maxPinnedBytes != 0 && (maxPinnedBytes < MIN_PINNED_BYTES)) {
            // One chunk must fit, or no write could ever be registered.
            throw new IllegalArgumentException("Parameter 'max_pinned_bytes' expects 0 (no limit) or at least "
                    + MIN_PINNED_BYTES + " bytes (one chunk)");
        }
        if (multifdChannels < 1 || multifdChannels > 255) {
            // QEMU's migrate_params_check text (the uint8 parse catches values above 255 first).
            throw new IllegalArgumentException("Parameter 'multifd_channels' expects a value between 1 and 255");
        }
    }

    private static IllegalArgumentException range(String name, String range) {
        return new IllegalArgumentException("Parameter '" + name + "' expects an integer in the range of " + range);
    }

    /**
     * @param bytesPerSecond new {@code max-bandwidth}
     * @return the changed parameters
     */
    public MigrationParameters withMaxBandwidth(long bytesPerSecond) {
        return new MigrationParameters(bytesPerSecond, downtimeLimit, availSwitchoverBandwidth,
                throttleTriggerThreshold, cpuThrottleInitial, cpuThrottleIncrement, maxCpuThrottle, maxPinnedBytes,
                multifdChannels);
    }

    /**
     * @param millis new {@code downtime-limit}
     * @return the changed parameters
     */
    public MigrationParameters withDowntimeLimit(long millis) {
        return new MigrationParameters(maxBandwidth, millis, availSwitchoverBandwidth, throttleTriggerThreshold,
                cpuThrottleInitial, cpuThrottleIncrement, maxCpuThrottle, maxPinnedBytes, multifdChannels);
    }

    /**
     * @param bytesPerSecond new {@code avail-switchover-bandwidth}
     * @return the changed parameters
     */
    public MigrationParameters withAvailSwitchoverBandwidth(long bytesPerSecond) {
        return new MigrationParameters(maxBandwidth, downtimeLimit, bytesPerSecond, throttleTriggerThreshold,
                cpuThrottleInitial, cpuThrottleIncrement, maxCpuThrottle, maxPinnedBytes, multifdChannels);
    }

    /**
     * @param percent new {@code throttle-trigger-threshold}
     * @return the changed parameters
     */
    public MigrationParameters withThrottleTriggerThreshold(int percent) {
        return new MigrationParameters(maxBandwidth, downtimeLimit, availSwitchoverBandwidth, percent,
                cpuThrottleInitial, cpuThrottleIncrement, maxCpuThrottle, maxPinnedBytes, multifdChannels);
    }

    /**
     * @param percent new {@code cpu-throttle-initial}
     * @return the changed parameters
     */
    public MigrationParameters withCpuThrottleInitial(int percent) {
        return new MigrationParameters(maxBandwidth, downtimeLimit, availSwitchoverBandwidth,
                throttleTriggerThreshold, percent, cpuThrottleIncrement, maxCpuThrottle, maxPinnedBytes,
                multifdChannels);
    }

    /**
     * @param percent new {@code cpu-throttle-increment}
     * @return the changed parameters
     */
    public MigrationParameters withCpuThrottleIncrement(int percent) {
        return new MigrationParameters(maxBandwidth, downtimeLimit, availSwitchoverBandwidth,
                throttleTriggerThreshold, cpuThrottleInitial, percent, maxCpuThrottle, maxPinnedBytes, multifdChannels);
    }

    /**
     * @param percent new {@code max-cpu-throttle}
     * @return the changed parameters
     */
    public MigrationParameters withMaxCpuThrottle(int percent) {
        return new MigrationParameters(maxBandwidth, downtimeLimit, availSwitchoverBandwidth,
                throttleTriggerThreshold, cpuThrottleInitial, cpuThrottleIncrement, percent, maxPinnedBytes,
                multifdChannels);
    }

    /**
     * @param bytes new {@code max-pinned-bytes}, 0 for no limit
     * @return the changed parameters
     */
    public MigrationParameters withMaxPinnedBytes(long bytes) {
        return new MigrationParameters(maxBandwidth, downtimeLimit, availSwitchoverBandwidth,
                throttleTriggerThreshold, cpuThrottleInitial, cpuThrottleIncrement, maxCpuThrottle, bytes,
                multifdChannels);
    }

    /**
     * @param channels new {@code multifd-channels}, 1 to 255
     * @return the changed parameters
     */
    public MigrationParameters withMultifdChannels(int channels) {
        return new MigrationParameters(maxBandwidth, downtimeLimit, availSwitchoverBandwidth,
                throttleTriggerThreshold, cpuThrottleInitial, cpuThrottleIncrement, maxCpuThrottle, maxPinnedBytes,
                channels);
    }
}
