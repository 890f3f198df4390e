package io.livemig.metrics;

import io.livemig.migration.observe.MigrationRecorder;
import io.livemig.migration.protocol.ControlType;
import io.livemig.transport.rdma.verbs.WcOpcode;
import io.livemig.transport.rdma.verbs.WcStatus;
import io.micrometer.common.docs.KeyName;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The tag keys of livemig's meters and every value each can take: all bounded, none naming a chunk, an address or
 * a port. Two keys share the name {@code type} on different meters (control messages, event-loop runs).
 */
public enum MeterTag implements KeyName {

    /** Which end of the migration reports. */
    SIDE("side", Arrays.stream(MigrationRecorder.Side.values()).map(MigrationRecorder.Side::tag).toList()),
    /** How RAM is registered. */
    MODE("mode", Arrays.stream(MigrationRecorder.Mode.values()).map(MigrationRecorder.Mode::tag).toList()),
    /** How a migration ended. */
    OUTCOME("outcome", Arrays.stream(MigrationRecorder.Outcome.values()).map(MigrationRecorder.Outcome::tag)
            .toList()),
    /** A control message's type, as QEMU's {@code RDMA_CONTROL_*} names it. */
    CONTROL_TYPE("type", Arrays.stream(ControlType.values()).map(MeterTag::value).toList()),
    /** Whether a control message was sent or received by the reporting side. */
    DIRECTION("direction", List.of("sent", "received")),
    /** A work completion's operation, as {@code ibv_wc_opcode} names it. */
    OPCODE("opcode", Arrays.stream(WcOpcode.values()).map(MeterTag::value).toList()),
    /** A work completion's status, as {@code ibv_wc_status} names it. */
    STATUS("status", Arrays.stream(WcStatus.values()).map(MeterTag::value).toList()),
    /** Whether an event-loop iteration only polled or also blocked. */
    RUN_TYPE("type", List.of("poll", "block"));

    private final String key;
    private final List<String> values;

    MeterTag(String key, List<String> values) {
        this.key = key;
        this.values = values;
    }

    @Override
    public String asString() {
        return key;
    }

    /**
     * Every value the tag takes.
     *
     * @return the values, in their enum's order
     */
    public List<String> tagValues() {
        return values;
    }

    /**
     * The tag value of an enum constant: its name in lower case ({@code REGISTER_REQUEST} becomes
     * {@code register_request}, {@code WR_FLUSH_ERR} becomes {@code wr_flush_err}).
     *
     * @param constant the constant
     * @return the value
     */
    static String value(Enum<?> constant) {
        return constant.name().toLowerCase(Locale.ROOT);
    }
}
