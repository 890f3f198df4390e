package io.livemig.migration.stream;

import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.RamStream;
import io.livemig.migration.protocol.VmStateStream;
import java.io.DataOutput;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Writes the migration byte stream that travels in QEMU FILE messages, in the layout of QEMU's
 * {@code savevm.c} and of {@code ram.c} in RDMA mode (spec section 8.3): the file header, the "ram"
 * section whose parts carry no page data (only MEM_SIZE with the block list, HOOK and EOS), full
 * sections for non-live state, and the end of stream.
 *
 * <p>Section headers: START and FULL are {@code u8 type, be32 section_id, u8 idlen, idstr,
 * be32 instance_id, be32 version_id}; PART and END are {@code u8 type, be32 section_id}; every section
 * ends with the footer {@code u8 0x7E, be32 section_id}.
 *
 * <p>A HOOK must be the last bytes the destination holds when it enters its registration loop, so the
 * caller flushes the underlying QEMU FILE stream after each {@code begin...} method and then runs the
 * RDMA control phase, and sends nothing else until REGISTER FINISHED (spec section 8.3's invariant).
 */
public final class MigrationStreamWriter {

    /** QEMU's RAM section id string. */
    public static final String RAM_SECTION = "ram";
    /** QEMU's RAM section version. */
    public static final int RAM_SECTION_VERSION = 4;

    private final DataOutput out;
    private int nextSectionId;
    private int ramSectionId = -1;
    private boolean ramPartOpen;

    /**
     * Creates a writer.
     *
     * @param out the stream, typically buffered in front of the QEMU FILE sender
     */
    public MigrationStreamWriter(DataOutput out) {
        this.out = out;
    }

    /**
     * Writes the file header: magic "QEVM" and version 3.
     *
     * @throws IOException from the stream
     */
    public void writeHeader() throws IOException {
        out.writeInt(VmStateStream.MAGIC);
        out.writeInt(VmStateStream.VERSION);
    }

    /**
     * Opens the RAM section (START) and writes MEM_SIZE, the block list and the HOOK of the setup phase.
     *
     * @param blocks the blocks in source order
     * @throws IOException from the stream
     */
    public void beginRamSetup(List<BlockListEntry> blocks) throws IOException {
        if (ramSectionId >= 0) {
            throw new IllegalStateException("the RAM section was already started");
        }
        ramSectionId = nextSectionId++;
        sectionHeader(VmStateStream.SECTION_START, ramSectionId, RAM_SECTION, 0, RAM_SECTION_VERSION);
        long total = 0;
        for (BlockListEntry block : blocks) {
            total = Math.addExact(total, block.usedLength());
        }
        out.writeLong(total | RamStream.FLAG_MEM_SIZE);
        for (BlockListEntry block : blocks) {
            byte[] name = block.idstr().getBytes(StandardCharsets.UTF_8);
            out.writeByte(name.length);
            out.write(name);
            out.writeLong(block.usedLength());
        }
        out.writeLong(RamStream.FLAG_HOOK);
        ramPartOpen = true;
    }

    /**
     * Opens an iteration part of the RAM section (PART) and writes its HOOK.
     *
     * @throws IOException from the stream
     */
    public void beginRamRound() throws IOException {
        beginPart(VmStateStream.SECTION_PART);
    }

    /**
     * Opens the final part of the RAM section (END) and writes its HOOK.
     *
     * @throws IOException from the stream
     */
    public void beginRamFinish() throws IOException {
        beginPart(VmStateStream.SECTION_END);
    }

    private void beginPart(int type) throws IOException {
        if (ramSectionId < 0 || ramPartOpen) {
            throw new IllegalStateException("a RAM part begins after the setup part has ended");
        }
        out.writeByte(type);
        out.writeInt(ramSectionId);
        out.writeLong(RamStream.FLAG_HOOK);
        ramPartOpen = true;
    }

    /**
     * Ends the open RAM part: EOS, then the section footer. Call after REGISTER FINISHED.
     *
     * @throws IOException from the stream
     */
    public void endRamPart() throws IOException {
        if (!ramPartOpen) {
            throw new IllegalStateException("no RAM part is open");
        }
        out.writeLong(RamStream.FLAG_EOS);
        footer(ramSectionId);
        ramPartOpen = false;
    }

    /**
     * Writes a whole non-live section: the state is an opaque byte string, length-prefixed (be64).
     *
     * @param idstr section name
     * @param instanceId instance number
     * @param versionId section version
     * @param state the bytes
     * @throws IOException from the stream
     */
    public void writeFullSection(String idstr, int instanceId, int versionId, byte[] state) throws IOException {
        int id = nextSectionId++;
        sectionHeader(VmStateStream.SECTION_FULL, id, idstr, instanceId, versionId);
        out.writeLong(state.length);
        out.write(state);
        footer(id);
    }

    /**
     * Writes the end of stream; the destination completes on reading it.
     *
     * @throws IOException from the stream
     */
    public void writeEof() throws IOException {
        if (ramPartOpen) {
            throw new IllegalStateException("the RAM part must end before the stream does");
        }
        out.writeByte(VmStateStream.SECTION_EOF);
    }

    private void sectionHeader(int type, int id, String idstr, int instanceId, int versionId) throws IOException {
        byte[] name = idstr.getBytes(StandardCharsets.UTF_8);
        if (name.length == 0 || name.length > 255) {
            throw new IllegalArgumentException("section name must be 1 to 255 bytes: '" + idstr + "'");
        }
        out.writeByte(type);
        out.writeInt(id);
        out.writeByte(name.length);
        out.write(name);
        out.writeInt(instanceId);
        out.writeInt(versionId);
    }

    private void footer(int id) throws IOException {
        out.writeByte(VmStateStream.SECTION_FOOTER);
        out.writeInt(id);
    }
}
