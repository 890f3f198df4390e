package io.livemig.migration.destination;

import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.stream.DeviceState;
import java.util.Map;
import java.util.Optional;

/**
 * A completed incoming migration: the RAM blocks, now holding the source's memory, and either the
 * application's non-live state sections (a livemig source) or a VM's device state (a QEMU source, or a
 * livemig source sending a parked VM back). The application owns all of it from here (close the blocks
 * when done).
 *
 * @param blocks the RAM, in the source's order
 * @param state the application's sections by name (empty when the source sent a device state)
 * @param zeroPages pages the source sent as COMPRESS
 * @param verified true when the source sent {@code x-verify} checksums and every chunk matched them
 * @param machine the machine name of the stream's configuration section (QEMU's {@code none},
 *     {@code pc-i440fx-7.2}; {@code livemig} for an application), or null when the stream had none
 * @param deviceState the VM's device state (machine name and the tail after the RAM), or null
 */
public record IncomingMigration(RamBlocks blocks, Map<String, byte[]> state, long zeroPages, boolean verified,
        String machine, DeviceState deviceState) {

    /**
     * A migration without configuration section or device state.
     *
     * @param blocks the RAM, in the source's order
     * @param state the application's sections by name
     * @param zeroPages pages the source sent as COMPRESS
     * @param verified true when x-verify checksums matched
     */
    public IncomingMigration(RamBlocks blocks, Map<String, byte[]> state, long zeroPages, boolean verified) {
        this(blocks, state, zeroPages, verified, null, null);
    }

    /**
     * The VM's device state, when the source sent one instead of an application's sections.
     *
     * @return the device state, or empty
     */
    public Optional<DeviceState> deviceStateIfAny() {
        return Optional.ofNullable(deviceState);
    }
}
