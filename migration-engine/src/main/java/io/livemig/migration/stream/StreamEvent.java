package io.livemig.migration.stream;

import io.livemig.migration.protocol.BlockListEntry;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * What the migration stream delivers, one event per complete part, in stream order (the events a
 * {@link MigrationStreamDecoder} returns; {@link MigrationStreamReader.Listener} has one method per kind).
 */
public sealed interface StreamEvent {

    /**
     * The configuration section: the machine the source runs ({@code none}, {@code pc-i440fx-7.2}, or
     * {@link MigrationStreamWriter#LIVEMIG_MACHINE} for an application).
     *
     * @param machine the machine name
     */
    record Configuration(String machine) implements StreamEvent {

        /** Checks the name. */
        public Configuration {
            Objects.requireNonNull(machine, "machine");
        }
    }

    /**
     * The setup part's block list, before its HOOK: the destination prepares (or allocates) its blocks and
     * notes the source's order.
     *
     * @param blocks names and used lengths in source order (unmodifiable)
     */
    record RamBlockList(List<BlockListEntry> blocks) implements StreamEvent {

        /** Copies the list. */
        public RamBlockList {
            blocks = List.copyOf(blocks);
        }
    }

    /**
     * A HOOK: the destination runs the RDMA registration loop until REGISTER FINISHED before it asks for
     * more stream bytes (spec section 8.3: the HOOK is the last byte the source sent before the control phase).
     *
     * @param phase which part of the RAM section the hook is in
     */
    record RamHook(RamPhase phase) implements StreamEvent {

        /** Checks the phase. */
        public RamHook {
            Objects.requireNonNull(phase, "phase");
        }
    }

    /**
     * A page record ({@code RAM_SAVE_FLAG_PAGE}; exec/TCP mode, where pages travel in the stream): one
     * target page of a block, checked to lie inside the block as announced.
     *
     * @param block the block's name
     * @param offset the page's offset in the block
     * @param data the {@link io.livemig.migration.protocol.RamStream#TARGET_PAGE_SIZE} bytes; the array
     *     belongs to whoever takes the event
     */
    record RamPage(String block, long offset, byte[] data) implements StreamEvent {

        /** Checks the fields. */
        public RamPage {
            Objects.requireNonNull(block, "block");
            Objects.requireNonNull(data, "data");
        }

        /** Two pages are equal when their places and bytes are. */
        @Override
        public boolean equals(Object o) {
            return o instanceof RamPage other && block.equals(other.block) && offset == other.offset
                    && Arrays.equals(data, other.data);
        }

        @Override
        public int hashCode() {
            return Objects.hash(block, offset, Arrays.hashCode(data));
        }

        @Override
        public String toString() {
            return "RamPage[block=" + block + ", offset=0x" + Long.toHexString(offset) + "]";
        }
    }

    /**
     * A ZERO record ({@code RAM_SAVE_FLAG_ZERO}; exec/TCP mode): a page whose every byte is {@code fill}
     * (QEMU always sends 0), checked to lie inside the block.
     *
     * @param block the block's name
     * @param offset the page's offset in the block
     * @param fill the byte value
     */
    record RamZeroPage(String block, long offset, byte fill) implements StreamEvent {

        /** Checks the block. */
        public RamZeroPage {
            Objects.requireNonNull(block, "block");
        }
    }

    /**
     * A VM's device state after the final RAM part (QEMU's device FULL sections, EOF, VMDESCRIPTION), kept
     * whole; {@link End} follows.
     *
     * @param state the machine name and the tail
     */
    record DeviceSections(DeviceState state) implements StreamEvent {

        /** Checks the state. */
        public DeviceSections {
            Objects.requireNonNull(state, "state");
        }
    }

    /**
     * A whole non-live section, delivered once its footer has been checked.
     *
     * @param idstr section name
     * @param instanceId instance number
     * @param versionId section version
     * @param state the section's bytes; the array belongs to whoever takes the event (not copied)
     */
    record FullSection(String idstr, int instanceId, int versionId, byte[] state) implements StreamEvent {

        /** Checks the fields. */
        public FullSection {
            Objects.requireNonNull(idstr, "idstr");
            Objects.requireNonNull(state, "state");
        }

        /** Two sections are equal when their names, numbers and state bytes are. */
        @Override
        public boolean equals(Object o) {
            return o instanceof FullSection other
                    && idstr.equals(other.idstr)
                    && instanceId == other.instanceId
                    && versionId == other.versionId
                    && Arrays.equals(state, other.state);
        }

        @Override
        public int hashCode() {
            return Objects.hash(idstr, instanceId, versionId, Arrays.hashCode(state));
        }

        @Override
        public String toString() {
            return "FullSection[idstr=" + idstr + ", instanceId=" + instanceId + ", versionId=" + versionId
                    + ", state=" + state.length + " bytes]";
        }
    }

    /**
     * The end of the stream: the end-of-stream marker (QEMU_VM_EOF) after the final RAM part and the
     * application's sections, with the VMDESCRIPTION that follows it checked (or the input ended right
     * after EOF, which QEMU also accepts), or the end of a {@link DeviceSections} tail.
     */
    record End() implements StreamEvent {
    }
}
