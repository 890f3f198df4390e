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

    /** The end-of-stream marker (QEMU_VM_EOF) after the final RAM part: the migration's stream is complete. */
    record End() implements StreamEvent {
    }
}
