package io.livemig.migration.params;

import java.util.EnumSet;
import java.util.Set;

/**
 * An immutable set of enabled {@link MigrationCapability capabilities}.
 *
 * @param enabled the capabilities that are on
 */
public record MigrationCapabilities(Set<MigrationCapability> enabled) {

    /** Every capability off (QEMU's defaults). */
    public static final MigrationCapabilities DEFAULTS = new MigrationCapabilities(Set.of());

    /**
     * Copies the set.
     *
     * @param enabled the capabilities that are on
     */
    public MigrationCapabilities {
        enabled = enabled.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(enabled));
    }

    /**
     * Whether a capability is on.
     *
     * @param capability the capability
     * @return true when enabled
     */
    public boolean isOn(MigrationCapability capability) {
        return enabled.contains(capability);
    }

    /**
     * This set with one capability switched.
     *
     * @param capability the capability
     * @param on its new state
     * @return the new set
     */
    public MigrationCapabilities with(MigrationCapability capability, boolean on) {
        EnumSet<MigrationCapability> copy = EnumSet.noneOf(MigrationCapability.class);
        copy.addAll(enabled);
        if (on) {
            copy.add(capability);
        } else {
            copy.remove(capability);
        }
        return new MigrationCapabilities(copy);
    }
}
