package io.livemig.migration.stream;

import io.livemig.migration.protocol.ProtocolError;
import io.livemig.migration.protocol.ProtocolException;
import io.livemig.migration.protocol.VmStateStream;
import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The grammar of the migration stream as {@link MigrationStreamDecoder} reads it: a state machine over
 * the stream's fields, in the order QEMU 7.2's {@code qemu_loadvm_state} reads them, each checked as soon
 * as it is whole. It holds no bytes but the ones it keeps (a section's state, a device tail): the decoder
 * owns the buffer and hands it in.
 *
 * <pre>
 * header          "QEVM" 3
 * configuration   07 be32 len name                      (optional unless a machine is expected)
 * ram START       01 id "ram" inst 4  body  7e id       body: {@link RamSectionParser}
 * ram PART/END    02|03 id  body  7e id                 matched by id; END once
 * then either     livemig FULL sections                 04 id "livemig-..." inst 1 be32 n, n bytes, 7e id
 *                 EOF 00, VMDESCRIPTION 06 be32 n JSON  (JSON = what the sections' layout says; may be absent)
 * or              a device-state tail                   QEMU's device FULL sections, EOF, VMDESCRIPTION:
 *                                                       kept whole ({@link DeviceTailBuffer})
 * </pre>
 */
final class StreamParser {

    /** The field the parser waits for; each is read whole, then checked, as QEMU reads it. */
    private enum Field {
        /** {@code be32 "QEVM"}. */
        MAGIC,
        /** {@code be32 3}. */
        VERSION,
        /** {@code u8} section type, or EOF. */
        SECTION_TYPE,
        /** {@code be32} length of the configuration's machine name. */
        CONFIG_LENGTH,
        /** The machine name. */
        CONFIG_NAME,
        /** {@code u8 len, name} of a subsection after the configuration. */
        SUBSECTION_NAME,
        /** {@code be32 section_id}. */
        SECTION_ID,
        /** {@code u8 len, idstr} of a START or FULL section. */
        SECTION_NAME,
        /** {@code be32 instance_id, be32 version_id}; nothing is checked between the two. */
        SECTION_NUMBERS,
        /** {@code be32} size of a livemig section's data field. */
        STATE_LENGTH,
        /** The data field, copied as it arrives. */
        STATE_BYTES,
        /** A RAM part's body, read by {@link RamSectionParser}. */
        RAM,
        /** {@code u8 0x7E}. */
        FOOTER_MARKER,
        /** {@code be32 section_id} of the footer. */
        FOOTER_ID,
        /** A device-state tail: every byte, until a VMDESCRIPTION ends it. */
        DEVICE_TAIL,
        /** {@code u8 0x06} after EOF. */
        VMDESC_TYPE,
        /** {@code be32} length of the JSON. */
        VMDESC_LENGTH,
        /** The JSON, copied as it arrives. */
        VMDESC_JSON,
        /** The end event is due (no byte needed). */
        END,
        /** After the end: nothing more is read. */
        DONE
    }

    /** Longest machine name accepted. */
    static final int MAX_MACHINE_NAME = 256;

    private static final StreamEvent.End END = new StreamEvent.End();

    private final long maxStateBytes;
    private final String expectedMachine;
    private final RamSectionParser ram = new RamSectionParser();
    private Field field = Field.MAGIC;
    private String machine;
    private boolean anySection;

    // The section being read (QEMU's section header fields).
    private int sectionType;
    private int sectionId;
    private String sectionName;
    private int instanceId;
    private int versionId;
    /** A section's data field, or the VMDESCRIPTION, as it fills. */
    private byte[] sectionState;
    private int stateFilled;
    private int configLength;

    private int ramSectionId = -1;
    private boolean ramFinished;
    /** livemig's own FULL sections received, which the VMDESCRIPTION must describe. */
    private final List<VmDescription.Section> described = new ArrayList<>();
    private DeviceTailBuffer tail;

    /**
     * Creates a parser at the start of a stream.
     *
     * @param maxStateBytes largest livemig section, VMDESCRIPTION or device-state tail accepted (held in memory)
     * @param expectedMachine the machine name the configuration section must carry, or null for any
     */
    StreamParser(long maxStateBytes, String expectedMachine) {
        this.maxStateBytes = maxStateBytes;
        this.expectedMachine = expectedMachine;
    }

    /** Whether the end was read: nothing more is. */
    boolean done() {
        return field == Field.DONE;
    }

    /** Whether the parser reads a device-state tail, whose end only its content tells. */
    boolean readingDeviceTail() {
        return field == Field.DEVICE_TAIL;
    }

    /** Drops what a failed or abandoned stream held. */
    void clear() {
        sectionState = null;
        tail = null;
        ram.clear();
    }

    /**
     * Whether {@code in} holds the awaited field: all of it, or any part of a field copied piecewise (a
     * section's data, the VMDESCRIPTION, a device tail), so that nothing large is ever held twice.
     */
    boolean canRead(ByteBuf in) {
        int readable = in.readableBytes();
        boolean piecewise = field == Field.STATE_BYTES || field == Field.VMDESC_JSON || field == Field.DEVICE_TAIL;
        return readable >= need(in) || (piecewise && readable > 0);
    }

    /** Size of the whole field awaited, given the buffered bytes (a name's length byte tells its size). */
    long need(ByteBuf in) {
        return switch (field) {
            case SECTION_TYPE, FOOTER_MARKER, VMDESC_TYPE, DEVICE_TAIL -> 1;
            case MAGIC, VERSION, SECTION_ID, FOOTER_ID, CONFIG_LENGTH, STATE_LENGTH, VMDESC_LENGTH -> Integer.BYTES;
            case SECTION_NUMBERS -> Long.BYTES;
            case SECTION_NAME, SUBSECTION_NAME -> !in.isReadable() ? 1 : 1 + in.getUnsignedByte(in.readerIndex());
            case CONFIG_NAME -> configLength;
            case STATE_BYTES, VMDESC_JSON -> sectionState.length - stateFilled;
            case RAM -> ram.need(in);
            case END, DONE -> 0;
        };
    }

    /**
     * Reads and checks the awaited field, which {@link #canRead} says is there, and moves on.
     *
     * @param in the buffered stream bytes
     * @return the event this field completes, or null
     * @throws ProtocolException for an invalid field
     */
    StreamEvent read(ByteBuf in) {
        switch (field) {
            case MAGIC -> {
                int magic = in.readInt();
                if (magic != VmStateStream.MAGIC) {
                    throw invalid(String.format("not a QEMU migration stream: magic 0x%08x, expected 0x%08x ('QEVM')",
                            magic, VmStateStream.MAGIC));
                }
                field = Field.VERSION;
            }
            case VERSION -> {
                int version = in.readInt();
                if (version != VmStateStream.VERSION) {
                    throw invalid("unsupported migration stream version " + Integer.toUnsignedString(version)
                            + " (expected " + VmStateStream.VERSION + ")");
                }
                field = Field.SECTION_TYPE;
            }
            case SECTION_TYPE -> {
                return sectionType(in.readUnsignedByte());
            }
            case CONFIG_LENGTH -> configLength(in.readInt());
            case CONFIG_NAME -> {
                return configName(in);
            }
            case SUBSECTION_NAME -> throw invalid("unsupported subsection '" + readName(in)
                    + "' of section 'configuration'");
            case SECTION_ID -> sectionId(in.readInt());
            case SECTION_NAME -> {
                sectionName = readName(in);
                field = Field.SECTION_NUMBERS;
            }
            case SECTION_NUMBERS -> {
                instanceId = in.readInt();
                versionId = in.readInt();
                sectionNumbers();
            }
            case STATE_LENGTH -> {
                sectionState = allocate(Integer.toUnsignedLong(in.readInt()), "section '" + sectionName + "'");
                field = sectionState.length == 0 ? Field.FOOTER_MARKER : Field.STATE_BYTES;
            }
            case STATE_BYTES -> {
                if (fill(in)) {
                    field = Field.FOOTER_MARKER;
                }
            }
            case RAM -> {
                StreamEvent event = ram.read(in);
                if (ram.ended()) {
                    field = Field.FOOTER_MARKER;
                }
                return event;
            }
            case FOOTER_MARKER -> {
                int marker = in.readUnsignedByte();
                if (marker != VmStateStream.SECTION_FOOTER) {
                    throw invalid(String.format("missing footer of section %d: read 0x%02x instead of 0x7e",
                            sectionId, marker));
                }
                field = Field.FOOTER_ID;
            }
            case FOOTER_ID -> {
                return footerId(in.readInt());
            }
            case DEVICE_TAIL -> {
                DeviceState state = tail.read(in);
                if (state == null) {
                    return null;
                }
                tail = null;
                field = Field.END;
                return new StreamEvent.DeviceSections(state);
            }
            case VMDESC_TYPE -> {
                int type = in.readUnsignedByte();
                if (type != VmStateStream.SECTION_VMDESCRIPTION) {
                    throw invalid(String.format("expected the VMDESCRIPTION after EOF, read section type 0x%02x",
                            type));
                }
                field = Field.VMDESC_LENGTH;
            }
            case VMDESC_LENGTH -> {
                sectionState = allocate(Integer.toUnsignedLong(in.readInt()), "the VMDESCRIPTION");
                field = Field.VMDESC_JSON;
                if (sectionState.length == 0) {
                    return description();
                }
            }
            case VMDESC_JSON -> {
                if (fill(in)) {
                    return description();
                }
            }
            case END -> {
                field = Field.DONE;
                return END;
            }
            case DONE -> throw new AssertionError("nothing is read after the end of stream");
        }
        return null;
    }

    /**
     * The input ended (the transport closed) while the parser waits for its field.
     *
     * @return the end event when the stream may end here (right after EOF: QEMU accepts a stream without
     *     VMDESCRIPTION too)
     * @throws ProtocolException ({@link ProtocolError#TRUNCATED} or why a device tail does not end) otherwise
     */
    StreamEvent endOfInput() {
        if (field == Field.VMDESC_TYPE) {
            field = Field.DONE;
            return END;
        }
        if (field == Field.DEVICE_TAIL) {
            throw tail.truncated();
        }
        if (field == Field.VMDESC_LENGTH || field == Field.VMDESC_JSON) {
            throw new ProtocolException(ProtocolError.TRUNCATED, "the migration stream ended inside its VMDESCRIPTION");
        }
        throw MigrationStreamDecoder.truncated();
    }

    private StreamEvent sectionType(int type) {
        boolean first = !anySection;
        anySection = true;
        switch (type) {
            case VmStateStream.SECTION_EOF -> {
                if (!ramFinished) {
                    throw invalid("the migration stream ended before the final RAM part");
                }
                field = Field.VMDESC_TYPE;
                return null;
            }
            case VmStateStream.SECTION_CONFIGURATION -> {
                if (!first) {
                    throw invalid("section 'configuration' must come first");
                }
                field = Field.CONFIG_LENGTH;
                return null;
            }
            case VmStateStream.SECTION_SUBSECTION -> {
                if (machine == null || sectionType != VmStateStream.SECTION_CONFIGURATION) {
                    throw invalid("unexpected subsection (section type 0x05) in the migration stream");
                }
                field = Field.SUBSECTION_NAME;
                return null;
            }
            case VmStateStream.SECTION_START, VmStateStream.SECTION_FULL, VmStateStream.SECTION_PART,
                    VmStateStream.SECTION_END -> {
                if (first && expectedMachine != null) {
                    throw invalid("section 'configuration' is missing (local machine '" + expectedMachine + "')");
                }
                sectionType = type;
                field = Field.SECTION_ID;
                return null;
            }
            default -> throw invalid(String.format("unknown section type 0x%02x in the migration stream", type));
        }
    }

    private void configLength(int length) {
        if (length <= 0 || length > MAX_MACHINE_NAME) {
            throw invalid("section 'configuration' has a machine name of " + Integer.toUnsignedString(length)
                    + " bytes (1 to " + MAX_MACHINE_NAME + ")");
        }
        configLength = length;
        field = Field.CONFIG_NAME;
    }

    private StreamEvent configName(ByteBuf in) {
        byte[] bytes = new byte[configLength];
        in.readBytes(bytes);
        machine = utf8(bytes, "machine name in section 'configuration'");
        if (expectedMachine != null && !expectedMachine.equals(machine)) {
            // QEMU's own wording (savevm.c, configuration_post_load).
            throw invalid("section 'configuration': Machine type received is '" + machine + "' and local is '"
                    + expectedMachine + "'");
        }
        sectionType = VmStateStream.SECTION_CONFIGURATION;
        field = Field.SECTION_TYPE;
        return new StreamEvent.Configuration(machine);
    }

    private void sectionId(int id) {
        sectionId = id;
        if (sectionType == VmStateStream.SECTION_START || sectionType == VmStateStream.SECTION_FULL) {
            field = Field.SECTION_NAME;
            return;
        }
        // PART or END: continues the RAM section, the only iterable one.
        if (ramSectionId < 0 || id != ramSectionId) {
            throw invalid("unknown section id " + Integer.toUnsignedString(id));
        }
        if (ramFinished) {
            throw invalid("a RAM part arrived after the final one");
        }
        beginRamPart(sectionType == VmStateStream.SECTION_END ? RamPhase.FINISH : RamPhase.ROUND);
    }

    private void sectionNumbers() {
        if (sectionType == VmStateStream.SECTION_FULL) {
            fullSection();
            return;
        }
        if (!sectionName.equals(MigrationStreamWriter.RAM_SECTION)) {
            throw invalid("unexpected iterable section '" + sectionName + "': livemig migrates only 'ram'");
        }
        if (ramSectionId >= 0) {
            throw invalid("the RAM section started twice");
        }
        checkVersion(MigrationStreamWriter.RAM_SECTION_VERSION);
        ramSectionId = sectionId;
        beginRamPart(RamPhase.SETUP);
    }

    private void fullSection() {
        if (sectionName.startsWith(MigrationStreamWriter.APPLICATION_SECTION_PREFIX)) {
            checkVersion(MigrationStreamWriter.APPLICATION_SECTION_VERSION);
            field = Field.STATE_LENGTH;
            return;
        }
        // A device section: its body has no length, so from here on everything is one opaque tail.
        if (!ramFinished) {
            throw invalid("device section '" + sectionName + "' arrived before the final RAM part");
        }
        if (!described.isEmpty()) {
            throw invalid("device section '" + sectionName + "' after livemig's own sections: a stream carries"
                    + " one or the other");
        }
        byte[] name = sectionName.getBytes(StandardCharsets.UTF_8);
        ByteBuffer header = ByteBuffer.allocate(1 + 4 + 1 + name.length + 4 + 4)
                .put((byte) VmStateStream.SECTION_FULL).putInt(sectionId).put((byte) name.length).put(name)
                .putInt(instanceId).putInt(versionId);
        tail = new DeviceTailBuffer(machine == null ? "" : machine, sectionName, header.array(), maxStateBytes);
        field = Field.DEVICE_TAIL;
    }

    private void checkVersion(int known) {
        if (versionId != known) {
            throw invalid("unsupported version " + Integer.toUnsignedString(versionId) + " of section '"
                    + sectionName + "' (livemig reads version " + known + ")");
        }
    }

    private byte[] allocate(long length, String what) {
        if (length > maxStateBytes || length > Integer.MAX_VALUE - 8) {
            throw invalid(what + " holds " + length + " bytes, more than the limit of " + maxStateBytes);
        }
        stateFilled = 0;
        return new byte[(int) length];
    }

    /** Copies what is there of {@link #sectionState}; true once it is full. */
    private boolean fill(ByteBuf in) {
        int n = Math.min(in.readableBytes(), sectionState.length - stateFilled);
        in.readBytes(sectionState, stateFilled, n);
        stateFilled += n;
        return stateFilled == sectionState.length;
    }

    /** The VMDESCRIPTION after livemig's own sections must describe exactly them, as the writer does. */
    private StreamEvent description() {
        String expected = VmDescription.describe(described);
        String json = new String(sectionState, StandardCharsets.UTF_8);
        sectionState = null;
        if (!expected.equals(json)) {
            throw invalid("the VMDESCRIPTION does not describe the " + described.size()
                    + " livemig sections received");
        }
        field = Field.END;
        return null;
    }

    private void beginRamPart(RamPhase part) {
        ram.begin(part);
        field = Field.RAM;
    }

    private StreamEvent footerId(int footerId) {
        if (footerId != sectionId) {
            throw invalid("footer of section " + Integer.toUnsignedString(footerId) + " closes section " + sectionId);
        }
        field = Field.SECTION_TYPE;
        switch (sectionType) {
            case VmStateStream.SECTION_FULL -> {
                described.add(new VmDescription.Section(sectionName, instanceId, versionId, sectionState.length));
                StreamEvent event = new StreamEvent.FullSection(sectionName, instanceId, versionId, sectionState);
                sectionState = null;
                return event;
            }
            case VmStateStream.SECTION_END -> ramFinished = true;
            default -> {
                // START and PART: the RAM section goes on.
            }
        }
        return null;
    }

    /** {@code u8 len, idstr}: the length byte is checked as soon as it is there, the name once whole. */
    static String readName(ByteBuf in) {
        int length = in.readUnsignedByte();
        if (length == 0) {
            throw invalid("empty name in the migration stream");
        }
        byte[] bytes = new byte[length];
        in.readBytes(bytes);
        return utf8(bytes, "name in the migration stream");
    }

    private static String utf8(byte[] bytes, String what) {
        try {
            String name = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
            if (name.indexOf('\0') >= 0) {
                throw invalid(what + " has a NUL character");
            }
            return name;
        } catch (CharacterCodingException e) {
            throw invalid(what + " is not valid UTF-8");
        }
    }

    private static ProtocolException invalid(String message) {
        return new ProtocolException(ProtocolError.INVALID_FIELD, message);
    }
}
