package io.livemig.migration.params;

import java.util.Locale;

/**
 * The migration capabilities livemig knows, by their QMP names ({@code migrate-set-capabilities},
 * HMP {@code migrate_set_capability}). All default off, as in QEMU.
 */
public enum MigrationCapability {
    /** Register every RAM block whole before the bulk round instead of chunk by chunk (spec section 5.5). */
    RDMA_PIN_ALL("rdma-pin-all"),
    /** Throttle the workload when the dirty rate keeps the remainder above the downtime limit. */
    AUTO_CONVERGE("auto-converge"),
    /** livemig extension: CRC32C of every chunk checked by the destination after the final round. */
    X_VERIFY("x-verify"),
    /** Raise MIGRATION status events (QEMU's {@code events} capability; QMP clients see them always). */
    EVENTS("events"),
    /**
     * Stop in {@code pre-switchover} after pausing the application, until {@code migrate-continue
     * pre-switchover} (QEMU's capability of that name): the operator's chance to act before the final round.
     */
    PAUSE_BEFORE_SWITCHOVER("pause-before-switchover"),
    /**
     * Several RC connections per migration ({@code multifd-channels}), RDMA WRITEs striped across them. QEMU refuses
     * multifd with RDMA; livemig offers it in the connect's capabilities and uses it only when the destination
     * echoes it (a livemig destination), else one connection as QEMU.
     */
    MULTIFD("multifd");

    private final String qmpName;

    MigrationCapability(String qmpName) {
        this.qmpName = qmpName;
    }

    /**
     * The name on the wire of QMP and HMP.
     *
     * @return e.g. {@code rdma-pin-all}
     */
    public String qmpName() {
        return qmpName;
    }

    /**
     * Looks a capability up by its QMP name.
     *
     * @param name e.g. {@code auto-converge}
     * @return the capability
     * @throws IllegalArgumentException "Invalid parameter 'NAME'" (QEMU's {@code qapi_enum_parse} text)
     */
    public static MigrationCapability fromQmpName(String name) {
        for (MigrationCapability capability : values()) {
            if (capability.qmpName.equals(name)) {
                return capability;
            }
        }
        throw new IllegalArgumentException("Invalid parameter '" + name + "'");
    }

    @Override
    public String toString() {
        return qmpName.toLowerCase(Locale.ROOT);
    }
}
