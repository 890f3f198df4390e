package io.livemig.migration.status;

/**
 * QEMU's {@code MigrationStatus} values that livemig reaches (spec section 11.3), in QEMU's enum order.
 */
public enum MigrationStatus {
    /** No migration has run. */
    NONE("none"),
    /** Connecting, exchanging RAM blocks, pinning. */
    SETUP("setup"),
    /** Cancel requested; stopping at the next safe point. */
    CANCELLING("cancelling"),
    /** Cancelled; the source runs on. */
    CANCELLED("cancelled"),
    /** Pre-copy rounds in progress. */
    ACTIVE("active"),
    /** Done: the destination holds the memory and the state. */
    COMPLETED("completed"),
    /** Failed; {@code error-desc} says why and the source runs on. */
    FAILED("failed"),
    /** The application is being paused for the switchover. */
    PRE_SWITCHOVER("pre-switchover"),
    /** Paused: the final round and the non-live state are being sent. */
    DEVICE("device");

    private final String qmpName;

    MigrationStatus(String qmpName) {
        this.qmpName = qmpName;
    }

    /**
     * The value as QMP spells it.
     *
     * @return e.g. {@code pre-switchover}
     */
    public String qmpName() {
        return qmpName;
    }

    /**
     * Looks a status up by its QMP name.
     *
     * @param name e.g. {@code pre-switchover}
     * @return the status
     * @throws IllegalArgumentException "Invalid parameter 'NAME'" (QEMU's {@code qapi_enum_parse} text)
     */
    public static MigrationStatus fromQmpName(String name) {
        for (MigrationStatus status : values()) {
            if (status.qmpName.equals(name)) {
                return status;
            }
        }
        throw new IllegalArgumentException("Invalid parameter '" + name + "'");
    }

    /**
     * Whether a migration in this state is still running ({@code migrate} is refused meanwhile).
     *
     * @return true for setup, active, cancelling, pre-switchover and device
     */
    public boolean isActive() {
        return this == SETUP || this == ACTIVE || this == CANCELLING || this == PRE_SWITCHOVER || this == DEVICE;
    }

    /**
     * Whether this is an end state.
     *
     * @return true for completed, failed and cancelled
     */
    public boolean isFinished() {
        return this == COMPLETED || this == FAILED || this == CANCELLED;
    }

    @Override
    public String toString() {
        return qmpName;
    }
}
