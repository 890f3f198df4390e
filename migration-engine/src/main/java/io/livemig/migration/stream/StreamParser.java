package io.livemig.migration.stream;

import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.ProtocolError;
import io.livemig.migration.protocol.ProtocolException;
import io.livemig.migration.protocol.RamStream;
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
 * the stream's fields, in the order QEMU's {@code qemu_loadvm_state} and {@code ram_load} read them, each
 * checked as soon as it is whole. It holds no bytes: the decoder owns the buffer and hands it in.
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
        /** {@code be32 section_id}. */
        SECTION_ID,
        /** {@code u8 len, idstr} of a START or FULL section. */
        SECTION_NAME,
        /** {@code be32 instance_id, be32 version_id}; nothing is checked between the two. */
        SECTION_NUMBERS,
        /** {@code be64} length of a full section's state. */
        STATE_LENGTH,
        /** The state bytes, copied as they arrive. */
        STATE_BYTES,
        /** A {@code be64} RAM section word: MEM_SIZE, HOOK or EOS. */
        RAM_WORD,
        /** {@code u8 len, idstr} of a block list entry. */
        BLOCK_NAME,
        /** {@code be64 used_length} of a block list entry. */
        BLOCK_LENGTH,
        /** {@code u8 0x7E}. */
        FOOTER_MARKER,
        /** {@code be32 section_id} of the footer. */
        FOOTER_ID,
        /** After the end-of-stream marker: nothing more is read. */
        DONE
    }

    private static final StreamEvent.End END = new StreamEvent.End();

    private final long maxStateBytes;
    private Field field = Field.MAGIC;

    // The section being read (QEMU's section header fields).
    private int sectionType;
    private int sectionId;
    private String sectionName;
    private int instanceId;
    private int versionId;
    private byte[] sectionState;
    private int stateFilled;

    // The RAM section: its id once started, the part being read, the block list being read.
    private int ramSectionId = -1;
    private boolean ramFinished;
    private RamPhase phase;
    private boolean firstWord;
    private long blockListTotal;
    private long blockListRemaining;
    private List<BlockListEntry> blocks;
    private String blockName;

    /**
     * Creates a parser at the start of a stream.
     *
     * @param maxStateBytes largest non-live section accepted (its state is held in memory)
     */
    StreamParser(long maxStateBytes) {
        this.maxStateBytes = maxStateBytes;
    }

    /** Whether the end-of-stream marker has been read: nothing more is. */
    boolean done() {
        return field == Field.DONE;
    }

    /** Drops a partly read section or block list (the stream failed or was abandoned). */
    void clear() {
        sectionState = null;
        blocks = null;
    }

    /**
     * Whether {@code in} holds the awaited field: all of it, or any part of a section's state, which is
     * copied piecewise so that a large section is never held twice.
     */
    boolean canRead(ByteBuf in) {
        int readable = in.readableBytes();
        return readable >= need(in) || (field == Field.STATE_BYTES && readable > 0);
    }

    /** Size of the whole field awaited, given the buffered bytes (a name's length byte tells its size). */
    long need(ByteBuf in) {
        return switch (field) {
            case SECTION_TYPE, FOOTER_MARKER -> 1;
            case MAGIC, VERSION, SECTION_ID, FOOTER_ID -> Integer.BYTES;
            case SECTION_NUMBERS, STATE_LENGTH, RAM_WORD, BLOCK_LENGTH -> Long.BYTES;
            case SECTION_NAME, BLOCK_NAME -> !in.isReadable() ? 1 : 1 + in.getUnsignedByte(in.readerIndex());
            case STATE_BYTES -> sectionState.length - stateFilled;
            case DONE -> 0;
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
            case STATE_LENGTH -> stateLength(in.readLong());
            case STATE_BYTES -> {
                int n = Math.min(in.readableBytes(), sectionState.length - stateFilled);
                in.readBytes(sectionState, stateFilled, n);
                stateFilled += n;
                if (stateFilled == sectionState.length) {
                    field = Field.FOOTER_MARKER;
                }
            }
            case RAM_WORD -> {
                return ramWord(in.readLong());
            }
            case BLOCK_NAME -> {
                blockName = readName(in);
                field = Field.BLOCK_LENGTH;
            }
            case BLOCK_LENGTH -> {
                return blockLength(in.readLong());
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
            case DONE -> throw new AssertionError("nothing is read after the end of stream");
        }
        return null;
    }

    private StreamEvent sectionType(int type) {
        switch (type) {
            case VmStateStream.SECTION_EOF -> {
                if (!ramFinished) {
                    throw invalid("the migration stream ended before the final RAM part");
                }
                field = Field.DONE;
                return END;
            }
            case VmStateStream.SECTION_START, VmStateStream.SECTION_FULL, VmStateStream.SECTION_PART,
                    VmStateStream.SECTION_END -> {
                sectionType = type;
                field = Field.SECTION_ID;
                return null;
            }
            default -> throw invalid(String.format("unknown section type 0x%02x in the migration stream", type));
        }
    }

    private void sectionId(int id) {
        sectionId = id;
        if (sectionType == VmStateStream.SECTION_START || sectionType == VmStateStream.SECTION_FULL) {
            field = Field.SECTION_NAME;
            return;
        }
        // PART or END: continues the RAM section.
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
            field = Field.STATE_LENGTH;
            return;
        }
        if (!sectionName.equals(MigrationStreamWriter.RAM_SECTION)) {
            throw invalid("unexpected iterable section '" + sectionName + "': livemig migrates only 'ram'");
        }
        if (ramSectionId >= 0) {
            throw invalid("the RAM section started twice");
        }
        if (versionId != MigrationStreamWriter.RAM_SECTION_VERSION) {
            throw invalid("unsupported RAM section version " + Integer.toUnsignedString(versionId) + " (expected "
                    + MigrationStreamWriter.RAM_SECTION_VERSION + ")");
        }
        ramSectionId = sectionId;
        beginRamPart(RamPhase.SETUP);
    }

    private void stateLength(long length) {
        if (length < 0 || length > maxStateBytes || length > Integer.MAX_VALUE - 8) {
            throw invalid("section '" + sectionName + "' holds " + Long.toUnsignedString(length)
                    + " bytes, more than the limit of " + maxStateBytes);
        }
        sectionState = new byte[(int) length];
        stateFilled = 0;
        field = Field.STATE_BYTES;
    }

    private void beginRamPart(RamPhase part) {
        phase = part;
        firstWord = true;
        field = Field.RAM_WORD;
    }

    /** One word of a RAM part (QEMU's ram_load loop, RDMA flags only). */
    private StreamEvent ramWord(long word) {
        long address = word & ~(RamStream.TARGET_PAGE_SIZE - 1L);
        int flags = (int) (word & (RamStream.TARGET_PAGE_SIZE - 1));
        boolean first = firstWord;
        firstWord = false;
        switch (flags) {
            case RamStream.FLAG_MEM_SIZE -> {
                if (phase != RamPhase.SETUP || !first) {
                    throw invalid("MEM_SIZE outside the start of the RAM setup part");
                }
                blockListTotal = address;
                blockListRemaining = address;
                blocks = new ArrayList<>();
                return blockListRemaining > 0 ? nextBlock() : blockListDone();
            }
            case RamStream.FLAG_HOOK -> {
                if (phase == RamPhase.SETUP && first) {
                    throw invalid("the RAM setup part must begin with MEM_SIZE");
                }
                return new StreamEvent.RamHook(phase);
            }
            case RamStream.FLAG_EOS -> {
                if (phase == RamPhase.SETUP && first) {
                    throw invalid("the RAM setup part must begin with MEM_SIZE");
                }
                field = Field.FOOTER_MARKER;
                return null;
            }
            default -> throw invalid(String.format(
                    "unexpected RAM flags 0x%x in an RDMA migration stream (only MEM_SIZE, HOOK and EOS)", flags));
        }
    }

    private StreamEvent blockLength(long usedLength) {
        if (usedLength <= 0 || usedLength > blockListRemaining) {
            throw invalid("RAM block '" + blockName + "' has used length " + Long.toUnsignedString(usedLength)
                    + ", which does not fit the announced total of " + blockListTotal + " bytes");
        }
        blocks.add(new BlockListEntry(blockName, usedLength));
        blockListRemaining -= usedLength;
        return blockListRemaining > 0 ? nextBlock() : blockListDone();
    }

    private StreamEvent nextBlock() {
        field = Field.BLOCK_NAME;
        return null;
    }

    private StreamEvent blockListDone() {
        StreamEvent event = new StreamEvent.RamBlockList(blocks);
        blocks = null;
        field = Field.RAM_WORD;
        return event;
    }

    private StreamEvent footerId(int footerId) {
        if (footerId != sectionId) {
            throw invalid("footer of section " + Integer.toUnsignedString(footerId) + " closes section " + sectionId);
        }
        field = Field.SECTION_TYPE;
        switch (sectionType) {
            case VmStateStream.SECTION_FULL -> {
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
    private static String readName(ByteBuf in) {
        int length = in.readUnsignedByte();
        if (length == 0) {
            throw invalid("empty name in the migration stream");
        }
        byte[] bytes = new byte[length];
        in.readBytes(bytes);
        try {
            String name = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
            if (name.indexOf('\0') >= 0) {
                throw invalid("name with a NUL character in the migration stream");
            }
            return name;
        } catch (CharacterCodingException e) {
            throw invalid("name in the migration stream is not valid UTF-8");
        }
    }

    private static ProtocolException invalid(String message) {
        return new ProtocolException(ProtocolError.INVALID_FIELD, message);
    }
}
