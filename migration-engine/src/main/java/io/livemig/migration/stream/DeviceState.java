package io.livemig.migration.stream;

import io.livemig.migration.protocol.ProtocolException;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A VM's non-RAM state as QEMU sends it: the machine name of the stream's configuration section and the
 * device-state tail, everything after the RAM END footer (the device FULL sections, EOF and VMDESCRIPTION).
 * Device sections carry no length, so livemig keeps the tail opaque: a destination receiving from QEMU
 * parks it, and a source sends it back verbatim after its RAM (instead of an application's own state), so
 * that the VM's memory parked in livemig can go back into a QEMU destination of the same build and machine
 * configuration (../shared/docs/qemu-savevm-stream.md, section 5).
 *
 * <p>The tail is checked when the value is made: it must end with {@code 00 06 <be32 n> <n bytes of JSON>},
 * and the JSON must walk every section exactly (header, fields, subsections, footer), as QEMU's
 * {@code analyze-migration.py} walks a stream. Immutable: the bytes are copied in and out.
 */
public final class DeviceState {

    /**
     * One device section of the tail.
     *
     * @param sectionId the section id in the recording (QEMU's ids have gaps)
     * @param idstr the device's name
     * @param instanceId its instance number
     * @param versionId its section version
     */
    public record Section(int sectionId, String idstr, int instanceId, int versionId) {
    }

    private final String machine;
    private final byte[] tail;
    private final List<Section> sections;

    private DeviceState(String machine, byte[] tail, List<Section> sections) {
        this.machine = machine;
        this.tail = tail;
        this.sections = sections;
    }

    /**
     * Checks and wraps a recorded tail.
     *
     * @param machine the machine name of the configuration section the tail was recorded with
     *     (e.g. {@code none}, {@code pc-i440fx-7.2})
     * @param tail everything after the RAM END footer, from the first device section through the VMDESCRIPTION
     * @return the device state
     * @throws ProtocolException when the tail is not a walkable device-state tail (the message says where)
     */
    public static DeviceState of(String machine, byte[] tail) {
        Objects.requireNonNull(machine, "machine");
        byte[] copy = tail.clone();
        return new DeviceState(machine, copy, VmDescription.walk(copy, copy.length));
    }

    /** Takes over a tail the decoder already walked (no copy, no second walk). */
    static DeviceState walked(String machine, byte[] tail, List<Section> sections) {
        return new DeviceState(machine, tail, sections);
    }

    /**
     * The machine name.
     *
     * @return the name of the configuration section
     */
    public String machine() {
        return machine;
    }

    /**
     * The tail's bytes.
     *
     * @return a copy
     */
    public byte[] tail() {
        return tail.clone();
    }

    /**
     * The tail's length.
     *
     * @return bytes
     */
    public int size() {
        return tail.length;
    }

    /**
     * The device sections, in stream order.
     *
     * @return the sections (unmodifiable)
     */
    public List<Section> sections() {
        return sections;
    }

    /**
     * The smallest section id no device section of the tail uses: the id a source gives the RAM section it
     * writes in front of the tail, so that every id in the stream stays distinct.
     *
     * @return an unused id
     */
    public int freeSectionId() {
        int id = 0;
        while (usesId(id)) {
            id++;
        }
        return id;
    }

    private boolean usesId(int id) {
        for (Section section : sections) {
            if (section.sectionId() == id) {
                return true;
            }
        }
        return false;
    }

    /** Bytes without copying, for the writer. */
    byte[] bytes() {
        return tail;
    }

    /** Equal when machine and bytes are. */
    @Override
    public boolean equals(Object o) {
        return o instanceof DeviceState other && machine.equals(other.machine) && Arrays.equals(tail, other.tail);
    }

    @Override
    public int hashCode() {
        return 31 * machine.hashCode() + Arrays.hashCode(tail);
    }

    @Override
    public String toString() {
        return "DeviceState[machine=" + machine + ", " + sections.size() + " sections, " + tail.length + " bytes]";
    }
}
