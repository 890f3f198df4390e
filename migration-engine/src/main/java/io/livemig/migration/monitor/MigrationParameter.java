package io.livemig.migration.monitor;

import io.livemig.migration.params.MigrationParameters;
import java.util.function.ToLongFunction;

/**
 * The migration parameters the monitor reads and writes, by their QMP names, in the order QEMU lists them
 * in {@code query-migrate-parameters} and {@code info migrate_parameters}; each knows how HMP's
 * {@code migrate_set_parameter} parses its value (QEMU's {@code hmp_migrate_set_parameter}) and how
 * {@code info migrate_parameters} prints it.
 */
public enum MigrationParameter {
    /** {@code throttle-trigger-threshold}, percent. */
    THROTTLE_TRIGGER_THRESHOLD("throttle-trigger-threshold", Kind.UINT8, "",
            MigrationParameters::throttleTriggerThreshold),
    /** {@code cpu-throttle-initial}, percent. */
    CPU_THROTTLE_INITIAL("cpu-throttle-initial", Kind.UINT8, "", MigrationParameters::cpuThrottleInitial),
    /** {@code cpu-throttle-increment}, percent. */
    CPU_THROTTLE_INCREMENT("cpu-throttle-increment", Kind.UINT8, "", MigrationParameters::cpuThrottleIncrement),
    /** {@code max-cpu-throttle}, percent. */
    MAX_CPU_THROTTLE("max-cpu-throttle", Kind.UINT8, "", MigrationParameters::maxCpuThrottle),
    /** {@code max-bandwidth}, bytes/s; HMP reads a bare number as MiB/s. */
    MAX_BANDWIDTH("max-bandwidth", Kind.SIZE_MIB, " bytes/second", MigrationParameters::maxBandwidth),
    /** {@code avail-switchover-bandwidth}, bytes/s; HMP reads a bare number as MiB/s. */
    AVAIL_SWITCHOVER_BANDWIDTH("avail-switchover-bandwidth", Kind.SIZE_MIB, " bytes/second",
            MigrationParameters::availSwitchoverBandwidth),
    /** {@code downtime-limit}, ms. */
    DOWNTIME_LIMIT("downtime-limit", Kind.SIZE, " ms", MigrationParameters::downtimeLimit),
    /** {@code multifd-channels}: RC connections per migration with the {@code multifd} capability; no unit. */
    MULTIFD_CHANNELS("multifd-channels", Kind.UINT8, "", MigrationParameters::multifdChannels),
    /**
     * {@code max-pinned-bytes}, bytes: livemig's own (QEMU has no such parameter), listed after QEMU's; HMP reads
     * a bare number as bytes.
     */
    MAX_PINNED_BYTES("max-pinned-bytes", Kind.SIZE, " bytes", MigrationParameters::maxPinnedBytes);

    /** How HMP reads the value, after QEMU's visitor for the parameter's QAPI type. */
    enum Kind {
        /** QAPI {@code uint8} through the string input visitor: a plain decimal 0 to 255. */
        UINT8,
        /** QAPI {@code size} through the string input visitor: {@code qemu_strtosz}, default unit bytes. */
        SIZE,
        /** Parsed with {@code qemu_strtosz_MiB} by HMP itself, default unit MiB. */
        SIZE_MIB
    }

    private final String qmpName;
    private final Kind kind;
    private final String unit;
    private final ToLongFunction<MigrationParameters> getter;

    MigrationParameter(String qmpName, Kind kind, String unit, ToLongFunction<MigrationParameters> getter) {
        this.qmpName = qmpName;
        this.kind = kind;
        this.unit = unit;
        this.getter = getter;
    }

    /**
     * The name in QMP and HMP.
     *
     * @return e.g. {@code max-bandwidth}
     */
    public String qmpName() {
        return qmpName;
    }

    /**
     * Looks a parameter up by its QMP name.
     *
     * @param name e.g. {@code downtime-limit}
     * @return the parameter
     * @throws IllegalArgumentException "Invalid parameter 'NAME'" (QEMU's {@code qapi_enum_parse} text)
     */
    public static MigrationParameter fromQmpName(String name) {
        for (MigrationParameter parameter : values()) {
            if (parameter.qmpName.equals(name)) {
                return parameter;
            }
        }
        throw new IllegalArgumentException("Invalid parameter '" + name + "'");
    }

    /**
     * The value in a set of parameters.
     *
     * @param parameters the set
     * @return the value in QMP's unit (bytes/s, ms, percent)
     */
    public long get(MigrationParameters parameters) {
        return getter.applyAsLong(parameters);
    }

    /**
     * A set of parameters with this one changed; the range checks are {@link MigrationParameters}'s, with
     * QEMU's texts.
     *
     * @param parameters the set
     * @param value the new value in QMP's unit
     * @return the changed set
     * @throws IllegalArgumentException when out of range
     */
    public MigrationParameters with(MigrationParameters parameters, long value) {
        return switch (this) {
            case THROTTLE_TRIGGER_THRESHOLD -> parameters.withThrottleTriggerThreshold(percent(value));
            case CPU_THROTTLE_INITIAL -> parameters.withCpuThrottleInitial(percent(value));
            case CPU_THROTTLE_INCREMENT -> parameters.withCpuThrottleIncrement(percent(value));
            case MAX_CPU_THROTTLE -> parameters.withMaxCpuThrottle(percent(value));
            case MAX_BANDWIDTH -> parameters.withMaxBandwidth(value);
            case AVAIL_SWITCHOVER_BANDWIDTH -> parameters.withAvailSwitchoverBandwidth(value);
            case DOWNTIME_LIMIT -> parameters.withDowntimeLimit(value);
            case MAX_PINNED_BYTES -> parameters.withMaxPinnedBytes(value);
            case MULTIFD_CHANNELS -> parameters.withMultifdChannels(percent(value));
        };
    }

    /**
     * Whether QMP's {@code migrate-set-parameters} takes this one as a QAPI {@code uint8} (else a
     * {@code size}, a 64-bit unsigned integer).
     *
     * @return true for the percentages
     */
    boolean isUint8() {
        return kind == Kind.UINT8;
    }

    /** Out-of-range percentages are caught by the uint8 parse first; clamp so the record reports the range. */
    private static int percent(long value) {
        return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, value));
    }

    /**
     * Parses an HMP {@code migrate_set_parameter} value as QEMU does for this parameter.
     *
     * @param text the value as typed
     * @return the value in QMP's unit
     * @throws IllegalArgumentException with QEMU's text ({@code Invalid size 40x},
     *         {@code Parameter 'cpu-throttle-initial' expects uint8})
     */
    public long parseHmp(String text) {
        return switch (kind) {
            case SIZE_MIB -> QemuSize.parseMiB(text);
            case SIZE -> parseVisited(text, QemuSize.BYTES, "size");
            case UINT8 -> parseUint8(text);
        };
    }

    private long parseVisited(String text, long unit, String type) {
        try {
            return QemuSize.parse(text, unit);
        } catch (IllegalArgumentException e) {
            // The string input visitor reports the parameter and the QAPI type, not the text.
            throw expects(type);
        }
    }

    private long parseUint8(String text) {
        if (text.isEmpty() || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw expects("uint64");
        }
        if (text.length() > 3 || Integer.parseInt(text) > 255) {
            throw expects("uint8");
        }
        return Integer.parseInt(text);
    }

    private IllegalArgumentException expects(String type) {
        return new IllegalArgumentException("Parameter '" + qmpName + "' expects " + type);
    }

    /**
     * The value as {@code info migrate_parameters} prints it, with QEMU's unit suffix.
     *
     * @param parameters the set
     * @return e.g. {@code max-bandwidth: 134217728 bytes/second}
     */
    public String hmpLine(MigrationParameters parameters) {
        return qmpName + ": " + get(parameters) + unit;
    }
}
