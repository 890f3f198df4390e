package io.livemig.metrics;

import static io.livemig.metrics.MeterTag.CONTROL_TYPE;
import static io.livemig.metrics.MeterTag.DIRECTION;
import static io.livemig.metrics.MeterTag.MODE;
import static io.livemig.metrics.MeterTag.OPCODE;
import static io.livemig.metrics.MeterTag.OUTCOME;
import static io.livemig.metrics.MeterTag.RUN_TYPE;
import static io.livemig.metrics.MeterTag.SIDE;
import static io.livemig.metrics.MeterTag.STATUS;

import io.micrometer.common.docs.KeyName;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.docs.MeterDocumentation;
import io.micrometer.prometheusmetrics.PrometheusNamingConvention;
import java.util.List;

/**
 * Every meter livemig registers: the single source of names, types, base units, tags and meanings. {@link
 * LivemigMetrics} registers from it, {@code docs/metrics.md} is checked against it, and the Grafana dashboard's
 * queries are checked against the {@linkplain #prometheusNames() names Prometheus sees}.
 *
 * <p>Names follow Micrometer's conventions: dotted lower case, no unit in the name (the base unit says it), tags with
 * bounded values only ({@link MeterTag}). Every name starts with {@link #PREFIX}, so that livemig's series stand apart
 * from the JVM's and the process's ({@link RuntimeMetrics}) and from other exporters' on a shared Prometheus; the rest
 * is QEMU's words. The {@code livemig.migration.*} meters come from the engine's {@code MigrationRecorder}, the
 * {@code livemig.rdma.*} meters from the transport's {@code TransportRecorder}.
 */
public enum LivemigMeters implements MeterDocumentation {

    // Chunk registration.

    /** REGISTER REQUEST to REGISTER RESULT. */
    REGISTRATION(Group.REGISTRATION, "livemig.migration.registration", Meter.Type.TIMER, "seconds",
            "REGISTER REQUEST round trips: on the source from sending the request to receiving its REGISTER "
                    + "RESULT, on the destination from receiving the request to sending the result. The count is "
                    + "the number of REGISTER REQUESTs.", SIDE, MODE),
    /** Chunks registered on request. */
    REGISTERED_CHUNKS(Group.REGISTRATION, "livemig.migration.registered.chunks", Meter.Type.COUNTER, "chunks",
            "Chunks registered through REGISTER REQUESTs (the sum of their repeat counts).", SIDE, MODE),
    /** Remote-key cache hits. */
    RKEY_CACHE_HITS(Group.REGISTRATION, "livemig.migration.rkey.cache.hits", Meter.Type.COUNTER, null,
            "Writes whose chunk's remote key was already cached, so no REGISTER REQUEST was needed (source, "
                    + "dynamic mode)."),
    /** Chunks deregistered. */
    UNREGISTERED_CHUNKS(Group.REGISTRATION, "livemig.migration.unregistered.chunks", Meter.Type.COUNTER, "chunks",
            "Chunks deregistered (UNREGISTER REQUEST, or released at the end of a migration).", SIDE),
    /** Registered (pinned) memory. */
    PINNED_MEMORY(Group.REGISTRATION, "livemig.migration.memory.pinned", Meter.Type.GAUGE, BaseUnits.BYTES,
            "Memory registered (pinned) for migrations now.", SIDE),
    /** Pin-all block registration. */
    PIN_ALL_REGISTRATION(Group.REGISTRATION, "livemig.migration.pin.all.registration", Meter.Type.TIMER, "seconds",
            "Registration of one whole RAM block in pin-all mode.", SIDE),

    // Transfer.

    /** RDMA WRITEs posted. */
    RDMA_WRITES(Group.TRANSFER, "livemig.migration.rdma.writes", Meter.Type.COUNTER, null,
            "RDMA WRITEs posted (source)."),
    /** Bytes written. */
    RDMA_WRITE_DATA(Group.TRANSFER, "livemig.migration.rdma.write.data", Meter.Type.COUNTER, BaseUnits.BYTES,
            "Bytes posted as RDMA WRITEs (source); after a completed migration its increase equals "
                    + "ram.normal-bytes."),
    /** Write sizes. */
    RDMA_WRITE_SIZE(Group.TRANSFER, "livemig.migration.rdma.write.size", Meter.Type.DISTRIBUTION_SUMMARY,
            BaseUnits.BYTES,
            "Size of each RDMA WRITE (source); a write never crosses a 1 MiB chunk."),
    /** Write completion latency. */
    RDMA_WRITE_LATENCY(Group.TRANSFER, "livemig.migration.rdma.write.latency", Meter.Type.TIMER, "seconds",
            "RDMA WRITE from post to work completion (source)."),
    /** COMPRESS'd bytes. */
    COMPRESS_DATA(Group.TRANSFER, "livemig.migration.compress.data", Meter.Type.COUNTER, BaseUnits.BYTES,
            "Zero ranges sent (source) or filled (destination) as COMPRESS instead of written.", SIDE),
    /** Control messages. */
    CONTROL_MESSAGES(Group.TRANSFER, "livemig.migration.control.messages", Meter.Type.COUNTER, null,
            "Control messages sent and received. A tag set appears with its first message.", SIDE, CONTROL_TYPE,
            DIRECTION),
    /** Control bytes. */
    CONTROL_DATA(Group.TRANSFER, "livemig.migration.control.data", Meter.Type.COUNTER, BaseUnits.BYTES,
            "Bytes of control messages, header and payload. A tag set appears with its first message.", SIDE,
            CONTROL_TYPE, DIRECTION),
    /** QEMU FILE bytes. */
    QEMU_FILE_DATA(Group.TRANSFER, "livemig.migration.qemu.file.data", Meter.Type.COUNTER, BaseUnits.BYTES,
            "QEMU FILE stream bytes carried (payload only): the non-live state.", SIDE),

    // Migrations.

    /** Migrations in progress. */
    ACTIVE(Group.MIGRATION, "livemig.migration.active", Meter.Type.LONG_TASK_TIMER, "seconds",
            "Migrations in progress (the count) and how long they have been running.", SIDE),
    /** Whole migrations. */
    DURATION(Group.MIGRATION, "livemig.migration.duration", Meter.Type.TIMER, "seconds",
            "Whole migrations, from start to end, by outcome.", SIDE, OUTCOME),
    /** Downtime. */
    DOWNTIME(Group.MIGRATION, "livemig.migration.downtime", Meter.Type.TIMER, "seconds",
            "The pause of each completed migration, from pausing the application to the destination completing "
                    + "(source; query-migrate downtime)."),
    /** Outcomes. */
    OUTCOMES(Group.MIGRATION, "livemig.migration.outcomes", Meter.Type.COUNTER, null,
            "Migrations ended, by outcome (equals the count of livemig.migration.duration).", SIDE, OUTCOME),
    /** RAM size. */
    RAM_SIZE(Group.MIGRATION, "livemig.migration.ram.size", Meter.Type.GAUGE, BaseUnits.BYTES,
            "RAM being migrated (query-migrate ram.total), from the latest progress snapshot (source)."),
    /** Remaining bytes. */
    RAM_REMAINING(Group.MIGRATION, "livemig.migration.ram.remaining", Meter.Type.GAUGE, BaseUnits.BYTES,
            "Bytes still dirty, to be sent (ram.remaining), from the latest progress snapshot (source)."),
    /** Dirty-page rate. */
    DIRTY_RATE(Group.MIGRATION, "livemig.migration.dirty.rate", Meter.Type.GAUGE, "pages.per.second",
            "Pages dirtied per second over the last round (ram.dirty-pages-rate; 4 KiB pages; source)."),
    /** Throughput. */
    THROUGHPUT(Group.MIGRATION, "livemig.migration.throughput", Meter.Type.GAUGE, "bytes.per.second",
            "Throughput of the last round (ram.mbps converted to bytes per second; source)."),
    /** Expected downtime. */
    EXPECTED_DOWNTIME(Group.MIGRATION, "livemig.migration.expected.downtime", Meter.Type.GAUGE, "seconds",
            "The pause a switchover would take now (expected-downtime; 0 when not active; source)."),
    /** Throttle percentage. */
    CPU_THROTTLE(Group.MIGRATION, "livemig.migration.cpu.throttle", Meter.Type.GAUGE, BaseUnits.PERCENT,
            "Auto-converge throttle applied to the workload (cpu-throttle-percentage; 0 when not throttling; "
                    + "source)."),
    /** Dirty-sync count. */
    DIRTY_SYNCS(Group.MIGRATION, "livemig.migration.dirty.syncs", Meter.Type.GAUGE, null,
            "Dirty bitmap syncs, that is rounds started, of the latest migration (ram.dirty-sync-count; source)."),

    // Transport.

    /** Outstanding send-queue requests. */
    SEND_QUEUE_OUTSTANDING(Group.TRANSPORT, "livemig.rdma.send.queue.outstanding", Meter.Type.GAUGE, "requests",
            "Send-queue work requests (SEND, RDMA WRITE, RDMA READ) posted and not completed, over all channels."),
    /** Receive credits. */
    RECEIVE_CREDITS(Group.TRANSPORT, "livemig.rdma.receive.credits", Meter.Type.GAUGE, "credits",
            "Receives posted and not consumed, over all channels: the SENDs peers may still make without "
                    + "receiver-not-ready."),
    /** CQ completions. */
    CQ_COMPLETIONS(Group.TRANSPORT, "livemig.rdma.cq.completions", Meter.Type.COUNTER, null,
            "Work completions polled from completion queues. Failed completions carry the opcode of the request "
                    + "that was posted. A tag set appears with its first completion.", OPCODE, STATUS),
    /** Event-loop iterations. */
    EVENT_LOOP_RUNS(Group.TRANSPORT, "livemig.rdma.eventloop.runs", Meter.Type.COUNTER, null,
            "Event-loop iterations: poll (polled the completion queues and went on) or block (armed them and "
                    + "waited in epoll).", RUN_TYPE);

    /** The sections of the docs and the rows of the dashboard. */
    public enum Group {
        /** REGISTER REQUESTs, the remote-key cache, pinning. */
        REGISTRATION("Chunk registration"),
        /** RDMA WRITEs, COMPRESS, control messages, the QEMU FILE stream. */
        TRANSFER("Transfer"),
        /** Whole migrations and the query-migrate snapshot. */
        MIGRATION("Migrations"),
        /** The RDMA event loops and channels. */
        TRANSPORT("RDMA transport");

        private final String title;

        Group(String title) {
            this.title = title;
        }

        /**
         * The section title.
         *
         * @return e.g. {@code Chunk registration}
         */
        public String title() {
            return title;
        }
    }

    /** What every meter's name starts with; Prometheus shows it as {@code livemig_}. */
    public static final String PREFIX = "livemig.";

    private static final PrometheusNamingConvention PROMETHEUS = new PrometheusNamingConvention();

    private final Group group;
    private final String name;
    private final Meter.Type type;
    private final String baseUnit;
    private final String description;
    private final MeterTag[] tags;

    LivemigMeters(Group group, String name, Meter.Type type, String baseUnit, String description, MeterTag... tags) {
        this.group = group;
        this.name = name;
        this.type = type;
        this.baseUnit = baseUnit;
        this.description = description;
        this.tags = tags;
    }

    /**
     * What the meter is about.
     *
     * @return its section
     */
    public Group group() {
        return group;
    }

    @Override
    public String getName() {
        return name;
    }

    @Override
    public Meter.Type getType() {
        return type;
    }

    /**
     * The base unit; {@code seconds} for timers and the time gauge, as Prometheus publishes them.
     *
     * @return the unit, or {@code null} for a plain count
     */
    @Override
    public String getBaseUnit() {
        return baseUnit;
    }

    @Override
    public KeyName[] getKeyNames() {
        return tags.clone();
    }

    /**
     * The tag keys, with their values.
     *
     * @return the tags, in order
     */
    public List<MeterTag> tags() {
        return List.of(tags);
    }

    /**
     * What the meter measures, for its description and the docs.
     *
     * @return one or two sentences
     */
    public String getDescription() {
        return description;
    }

    /**
     * The metric family name in Prometheus, as micrometer-registry-prometheus derives it: snake case, the base
     * unit appended ({@code _seconds} for timers), and what Prometheus does not allow in a name (the dots of a unit
     * such as {@code bytes.per.second}) replaced by underscores, as the Prometheus client does.
     *
     * @return e.g. {@code livemig_migration_registration_seconds}
     */
    public String prometheusFamily() {
        String family = PROMETHEUS.name(name, type, type == Meter.Type.TIMER || type == Meter.Type.LONG_TASK_TIMER
                ? null : baseUnit);
        return family.replaceAll("[^a-zA-Z0-9_:]", "_");
    }

    /**
     * The series names a scrape shows for this meter: {@code _total} for counters, {@code _count}, {@code _sum}
     * and {@code _max} for timers and summaries (for a long-task timer the count is of running tasks and the sum
     * their running time), the family itself for gauges.
     *
     * @return the names, as PromQL queries them
     */
    public List<String> prometheusNames() {
        String family = prometheusFamily();
        return switch (type) {
            case COUNTER -> List.of(family + "_total");
            case TIMER, LONG_TASK_TIMER, DISTRIBUTION_SUMMARY -> List.of(family + "_count", family + "_sum",
                    family + "_max");
            default -> List.of(family);
        };
    }
}
