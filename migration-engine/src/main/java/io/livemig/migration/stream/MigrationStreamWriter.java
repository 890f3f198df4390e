package io.livemig.migration.stream;

import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.RamStream;
import io.livemig.migration.protocol.VmStateStream;
import java.io.DataOutput;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the migration byte stream that travels in QEMU FILE messages, byte for byte in the layout of QEMU
 * 7.2's {@code savevm.c} and {@code ram.c}:
 * <pre>
 * 51 45 56 4d 00 00 00 03                     header "QEVM" 3                    {@link #writeHeader(String)}
 * 07 be32 len machine                         configuration
 * 01 id 03 "ram" be32 0 be32 4                RAM START: MEM_SIZE, block list,   {@link #beginRamSetup}
 *     [HOOK in RDMA mode]                     ... EOS, footer 7e id              {@link #endRamPart}
 * 02|03 id [HOOK | page records] EOS 7e id    RAM PART / END                     {@link #beginRamRound} ...
 * then either
 *   04 id "livemig-..." inst 1 be32 n data 7e id   the application's sections    {@link #writeFullSection}
 *   00, 06 be32 len JSON                      EOF, VMDESCRIPTION of them          {@link #writeEof}
 * or the device sections, 00, 06 be32 len JSON   a VM's recorded device state    {@link #writeDeviceState}
 * </pre>
 *
 * <p>livemig's own sections (names beginning {@value #APPLICATION_SECTION_PREFIX}) have two fields that the
 * VMDESCRIPTION describes as QEMU describes a variable buffer: {@code size} (uint32) and {@code data}
 * (buffer of that size), so QEMU's tooling walks them and a livemig destination reads them without waiting
 * for the description. A stream carries either an application's sections or a VM's device state, never
 * both: a QEMU destination refuses sections it does not know, and the device state ends the stream.
 *
 * <p>In {@link RamMode#RDMA} a HOOK must be the last bytes the destination holds when it enters its
 * registration loop, so the caller flushes the underlying QEMU FILE stream after each {@code begin...}
 * method and then runs the RDMA control phase, and sends nothing else until REGISTER FINISHED (spec section
 * 8.3's invariant). In {@link RamMode#STREAM} (QEMU's exec: and tcp: migrations) the pages travel in the
 * stream instead ({@link #writePage}, {@link #writeZeroPage}) and there is no HOOK.
 */
public final class MigrationStreamWriter {

    /** QEMU's RAM section id string. */
    public static final String RAM_SECTION = "ram";
    /** QEMU's RAM section version. */
    public static final int RAM_SECTION_VERSION = 4;
    /** Machine name an application sends in the configuration section. */
    public static final String LIVEMIG_MACHINE = "livemig";
    /** Names of livemig's own FULL sections begin with this; any other FULL section is a device's. */
    public static final String APPLICATION_SECTION_PREFIX = "livemig-";
    /** Version of livemig's own FULL sections (the size + data layout). */
    public static final int APPLICATION_SECTION_VERSION = 1;

    /** How the RAM section carries the pages. */
    public enum RamMode {
        /** No pages in the stream: each part has a HOOK and the pages go by RDMA WRITE. */
        RDMA,
        /** Pages as PAGE and ZERO records in the stream, no HOOK (QEMU's exec: and tcp: migrations). */
        STREAM
    }

    private final DataOutput out;
    private final RamMode mode;
    private int ramSectionId = -1;
    private int nextSectionId;
    private boolean ramPartOpen;
    private boolean ramFinished;
    private boolean ended;
    private final Map<String, Long> blockLengths = new HashMap<>();
    private String lastBlock;
    private final List<VmDescription.Section> sections = new ArrayList<>();

    /**
     * Creates a writer in {@link RamMode#RDMA}.
     *
     * @param out the stream, typically buffered in front of the QEMU FILE sender
     */
    public MigrationStreamWriter(DataOutput out) {
        this(out, RamMode.RDMA);
    }

    /**
     * Creates a writer.
     *
     * @param out the stream
     * @param mode how the RAM section carries the pages
     */
    public MigrationStreamWriter(DataOutput out, RamMode mode) {
        this.out = out;
        this.mode = mode;
    }

    /**
     * Writes the file header and a configuration section naming {@link #LIVEMIG_MACHINE}.
     *
     * @throws IOException from the stream
     */
    public void writeHeader() throws IOException {
        writeHeader(LIVEMIG_MACHINE);
    }

    /**
     * Writes the file header ("QEVM", version 3) and the configuration section: a QEMU destination checks
     * the machine name against its own ("Machine type received is ... and local is ...").
     *
     * @param machine the machine name, 1 to 256 bytes of UTF-8
     * @throws IOException from the stream
     */
    public void writeHeader(String machine) throws IOException {
        byte[] name = machine.getBytes(StandardCharsets.UTF_8);
        if (name.length == 0 || name.length > StreamParser.MAX_MACHINE_NAME) {
            throw new IllegalArgumentException("machine name must be 1 to 256 bytes: '" + machine + "'");
        }
        out.writeInt(VmStateStream.MAGIC);
        out.writeInt(VmStateStream.VERSION);
        out.writeByte(VmStateStream.SECTION_CONFIGURATION);
        out.writeInt(name.length);
        out.write(name);
    }

    /**
     * Sets the RAM section's id (before {@link #beginRamSetup}); 0 unless set. QEMU's ids come from its
     * registration order ({@code none}: 2); a source sending a {@link DeviceState} uses
     * {@link DeviceState#freeSectionId()} so that no id is used twice.
     *
     * @param id the section id
     */
    public void ramSectionId(int id) {
        if (ramSectionId >= 0) {
            throw new IllegalStateException("the RAM section was already started");
        }
        nextSectionId = id;
    }

    /**
     * Opens the RAM section (START) and writes MEM_SIZE and the block list, then in RDMA mode the setup
     * phase's HOOK.
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
            blockLengths.put(block.idstr(), block.usedLength());
        }
        hook();
        ramPartOpen = true;
    }

    /**
     * Opens an iteration part of the RAM section (PART), with its HOOK in RDMA mode.
     *
     * @throws IOException from the stream
     */
    public void beginRamRound() throws IOException {
        beginPart(VmStateStream.SECTION_PART);
    }

    /**
     * Opens the final part of the RAM section (END), with its HOOK in RDMA mode.
     *
     * @throws IOException from the stream
     */
    public void beginRamFinish() throws IOException {
        beginPart(VmStateStream.SECTION_END);
    }

    private void beginPart(int type) throws IOException {
        if (ramSectionId < 0 || ramPartOpen || ramFinished) {
            throw new IllegalStateException("a RAM part begins after the setup part has ended");
        }
        out.writeByte(type);
        out.writeInt(ramSectionId);
        hook();
        ramPartOpen = true;
        ramFinished = type == VmStateStream.SECTION_END;
    }

    private void hook() throws IOException {
        if (mode == RamMode.RDMA) {
            out.writeLong(RamStream.FLAG_HOOK);
        }
    }

    /**
     * Writes a PAGE record in the open part ({@link RamMode#STREAM} only): the page's offset with the block's
     * name, or CONTINUE when the previous record was in the same block.
     *
     * @param block the block's name, one of the block list
     * @param offset the page's offset in the block, a multiple of the target page size
     * @param page {@link RamStream#TARGET_PAGE_SIZE} bytes
     * @throws IOException from the stream
     */
    public void writePage(String block, long offset, byte[] page) throws IOException {
        if (page.length != RamStream.TARGET_PAGE_SIZE) {
            throw new IllegalArgumentException("a page is " + RamStream.TARGET_PAGE_SIZE + " bytes, not " + page.length);
        }
        pageHeader(block, offset, RamStream.FLAG_PAGE);
        out.write(page);
    }

    /**
     * Writes a ZERO record (a page of zero bytes) in the open part ({@link RamMode#STREAM} only).
     *
     * @param block the block's name, one of the block list
     * @param offset the page's offset in the block, a multiple of the target page size
     * @throws IOException from the stream
     */
    public void writeZeroPage(String block, long offset) throws IOException {
        pageHeader(block, offset, RamStream.FLAG_ZERO);
        out.writeByte(0);
    }

    private void pageHeader(String block, long offset, int flag) throws IOException {
        if (mode != RamMode.STREAM || !ramPartOpen) {
            throw new IllegalStateException("page records go in an open RAM part of a STREAM-mode writer");
        }
        Long length = blockLengths.get(block);
        if (length == null || offset < 0 || offset % RamStream.TARGET_PAGE_SIZE != 0
                || offset > length - RamStream.TARGET_PAGE_SIZE) {
            throw new IllegalArgumentException("no page at offset " + offset + " of block '" + block + "'");
        }
        if (block.equals(lastBlock)) {
            out.writeLong(offset | flag | RamStream.FLAG_CONTINUE);
            return;
        }
        out.writeLong(offset | flag);
        byte[] name = block.getBytes(StandardCharsets.UTF_8);
        out.writeByte(name.length);
        out.write(name);
        lastBlock = block;
    }

    /**
     * Ends the open RAM part: EOS, then the section footer. In RDMA mode, call after REGISTER FINISHED.
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
     * Writes one of the application's sections: {@code be32 size} and the bytes, described in the
     * VMDESCRIPTION that {@link #writeEof()} writes as fields {@code size} (uint32) and {@code data} (buffer).
     *
     * @param idstr section name, beginning with {@value #APPLICATION_SECTION_PREFIX}
     * @param instanceId instance number
     * @param versionId section version (a livemig destination reads {@value #APPLICATION_SECTION_VERSION})
     * @param state the bytes
     * @throws IOException from the stream
     */
    public void writeFullSection(String idstr, int instanceId, int versionId, byte[] state) throws IOException {
        if (!idstr.startsWith(APPLICATION_SECTION_PREFIX)) {
            throw new IllegalArgumentException("an application's section name begins with '"
                    + APPLICATION_SECTION_PREFIX + "': '" + idstr + "'");
        }
        requireOpenStream();
        int id = nextSectionId++;
        sectionHeader(VmStateStream.SECTION_FULL, id, idstr, instanceId, versionId);
        out.writeInt(state.length);
        out.write(state);
        footer(id);
        sections.add(new VmDescription.Section(idstr, instanceId, versionId, state.length));
    }

    /**
     * Ends the stream after the application's sections: EOF, then the VMDESCRIPTION that describes them.
     *
     * @throws IOException from the stream
     */
    public void writeEof() throws IOException {
        if (ramPartOpen) {
            throw new IllegalStateException("the RAM part must end before the stream does");
        }
        requireOpenStream();
        out.writeByte(VmStateStream.SECTION_EOF);
        byte[] json = VmDescription.describe(sections).getBytes(StandardCharsets.UTF_8);
        out.writeByte(VmStateStream.SECTION_VMDESCRIPTION);
        out.writeInt(json.length);
        out.write(json);
        ended = true;
    }

    /**
     * Ends the stream with a VM's recorded device state, verbatim (its device sections, EOF and
     * VMDESCRIPTION), after the final RAM part and instead of any application section.
     *
     * @param state the recorded state
     * @throws IOException from the stream
     */
    public void writeDeviceState(DeviceState state) throws IOException {
        if (!ramFinished || ramPartOpen) {
            throw new IllegalStateException("the device state follows the final RAM part");
        }
        requireOpenStream();
        if (!sections.isEmpty()) {
            throw new IllegalStateException("a stream carries the application's sections or a device state, not both");
        }
        out.write(state.bytes());
        ended = true;
    }

    private void requireOpenStream() {
        if (ended) {
            throw new IllegalStateException("the stream has ended");
        }
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
