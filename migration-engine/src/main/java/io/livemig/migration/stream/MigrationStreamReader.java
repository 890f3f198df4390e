package io.livemig.migration.stream;

import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.ProtocolError;
import io.livemig.migration.protocol.ProtocolException;
import io.livemig.migration.protocol.RamStream;
import io.livemig.migration.protocol.VmStateStream;
import java.io.DataInput;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the migration byte stream that {@link MigrationStreamWriter} produces, as a destination does
 * in QEMU's {@code qemu_loadvm_state} and {@code ram_load}: the header, the RAM section in RDMA mode
 * (no page data: MEM_SIZE with the block list, HOOK, EOS), full sections of non-live state, footers and
 * the end of stream. Every violation is a {@link ProtocolException}; a stream that ends early is
 * {@link ProtocolError#TRUNCATED}.
 *
 * <p>The input pulls: on the destination each read that runs out of buffered bytes asks the source
 * for more with a READY (spec section 8.2), so this runs off the event loop.
 */
public final class MigrationStreamReader {

    /** What the stream delivers, in order. */
    public interface Listener {
        /**
         * The setup part's block list, before its HOOK: the destination prepares (or allocates) its
         * blocks and notes the source's order.
         *
         * @param blocks names and used lengths in source order
         * @throws IOException to abort the migration
         */
        void ramBlockList(List<BlockListEntry> blocks) throws IOException;

        /**
         * A HOOK: run the RDMA registration loop until REGISTER FINISHED, then return.
         *
         * @param phase which part of the RAM section the hook is in
         * @throws IOException to abort the migration
         */
        void ramHook(RamPhase phase) throws IOException;

        /**
         * A whole non-live section.
         *
         * @param idstr section name
         * @param instanceId instance number
         * @param versionId section version
         * @param state the section's bytes
         * @throws IOException to abort the migration
         */
        void fullSection(String idstr, int instanceId, int versionId, byte[] state) throws IOException;
    }

    private final DataInput in;
    private final long maxStateBytes;
    private int ramSectionId = -1;
    private boolean ramFinished;

    /**
     * Creates a reader.
     *
     * @param in the stream, fed by QEMU FILE messages
     * @param maxStateBytes largest non-live section accepted (the state is held in memory)
     */
    public MigrationStreamReader(DataInput in, long maxStateBytes) {
        this.in = in;
        this.maxStateBytes = maxStateBytes;
    }

    /**
     * Reads the whole stream, calling the listener as its parts arrive, and returns at the end of stream.
     *
     * @param listener receives the parts
     * @throws IOException from the input or the listener
     * @throws ProtocolException for a malformed stream
     */
    public void readAll(Listener listener) throws IOException {
        try {
            readHeader();
            while (true) {
                int type = in.readUnsignedByte();
                switch (type) {
                    case VmStateStream.SECTION_EOF -> {
                        if (!ramFinished) {
                            throw invalid("the migration stream ended before the final RAM part");
                        }
                        return;
                    }
                    case VmStateStream.SECTION_START, VmStateStream.SECTION_FULL -> startOrFull(type, listener);
                    case VmStateStream.SECTION_PART, VmStateStream.SECTION_END -> part(type, listener);
                    default -> throw invalid(String.format("unknown section type 0x%02x in the migration stream", type));
                }
            }
        } catch (EOFException e) {
            throw new ProtocolException(ProtocolError.TRUNCATED, "the migration stream ended before its EOF marker");
        }
    }

    private void readHeader() throws IOException {
        int magic = in.readInt();
        if (magic != VmStateStream.MAGIC) {
            throw invalid(String.format("not a QEMU migration stream: magic 0x%08x, expected 0x%08x ('QEVM')", magic,
                    VmStateStream.MAGIC));
        }
        int version = in.readInt();
        if (version != VmStateStream.VERSION) {
            throw invalid("unsupported migration stream version " + Integer.toUnsignedString(version) + " (expected "
                    + VmStateStream.VERSION + ")");
        }
    }

    private void startOrFull(int type, Listener listener) throws IOException {
        int id = in.readInt();
        String idstr = readName();
        int instanceId = in.readInt();
        int versionId = in.readInt();
        if (type == VmStateStream.SECTION_START) {
            if (!idstr.equals(MigrationStreamWriter.RAM_SECTION)) {
                throw invalid("unexpected iterable section '" + idstr + "': livemig migrates only 'ram'");
            }
            if (ramSectionId >= 0) {
                throw invalid("the RAM section started twice");
            }
            if (versionId != MigrationStreamWriter.RAM_SECTION_VERSION) {
                throw invalid("unsupported RAM section version " + Integer.toUnsignedString(versionId) + " (expected "
                        + MigrationStreamWriter.RAM_SECTION_VERSION + ")");
            }
            ramSectionId = id;
            ramPart(RamPhase.SETUP, listener);
            footer(id);
            return;
        }
        long length = in.readLong();
        if (length < 0 || length > maxStateBytes || length > Integer.MAX_VALUE - 8) {
            throw invalid("section '" + idstr + "' holds " + Long.toUnsignedString(length)
                    + " bytes, more than the limit of " + maxStateBytes);
        }
        byte[] state = new byte[(int) length];
        in.readFully(state);
        footer(id);
        listener.fullSection(idstr, instanceId, versionId, state);
    }

    private void part(int type, Listener listener) throws IOException {
        int id = in.readInt();
        if (ramSectionId < 0 || id != ramSectionId) {
            throw invalid("unknown section id " + Integer.toUnsignedString(id));
        }
        if (ramFinished) {
            throw invalid("a RAM part arrived after the final one");
        }
        boolean last = type == VmStateStream.SECTION_END;
        ramPart(last ? RamPhase.FINISH : RamPhase.ROUND, listener);
        footer(id);
        ramFinished = last;
    }

    /** One part of the RAM section: words until EOS (QEMU's ram_load loop, RDMA flags only). */
    private void ramPart(RamPhase phase, Listener listener) throws IOException {
        boolean first = true;
        while (true) {
            long word = in.readLong();
            long address = word & ~(RamStream.TARGET_PAGE_SIZE - 1L);
            int flags = (int) (word & (RamStream.TARGET_PAGE_SIZE - 1));
            switch (flags) {
                case RamStream.FLAG_MEM_SIZE -> {
                    if (phase != RamPhase.SETUP || !first) {
                        throw invalid("MEM_SIZE outside the start of the RAM setup part");
                    }
                    listener.ramBlockList(readBlockList(address));
                }
                case RamStream.FLAG_HOOK -> {
                    if (phase == RamPhase.SETUP && first) {
                        throw invalid("the RAM setup part must begin with MEM_SIZE");
                    }
                    listener.ramHook(phase);
                }
                case RamStream.FLAG_EOS -> {
                    if (phase == RamPhase.SETUP && first) {
                        throw invalid("the RAM setup part must begin with MEM_SIZE");
                    }
                    return;
                }
                default -> throw invalid(String.format(
                        "unexpected RAM flags 0x%x in an RDMA migration stream (only MEM_SIZE, HOOK and EOS)", flags));
            }
            first = false;
        }
    }

    private List<BlockListEntry> readBlockList(long total) throws IOException {
        List<BlockListEntry> blocks = new ArrayList<>();
        long remaining = total;
        while (remaining > 0) {
            String name = readName();
            long usedLength = in.readLong();
            if (usedLength <= 0 || usedLength > remaining) {
                throw invalid("RAM block '" + name + "' has used length " + Long.toUnsignedString(usedLength)
                        + ", which does not fit the announced total of " + total + " bytes");
            }
            blocks.add(new BlockListEntry(name, usedLength));
            remaining -= usedLength;
        }
        return blocks;
    }

    private String readName() throws IOException {
        int length = in.readUnsignedByte();
        if (length == 0) {
            throw invalid("empty name in the migration stream");
        }
        byte[] bytes = new byte[length];
        in.readFully(bytes);
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

    private void footer(int id) throws IOException {
        int marker = in.readUnsignedByte();
        if (marker != VmStateStream.SECTION_FOOTER) {
            throw invalid(String.format("missing footer of section %d: read 0x%02x instead of 0x7e", id, marker));
        }
        int footerId = in.readInt();
        if (footerId != id) {
            throw invalid("footer of section " + Integer.toUnsignedString(footerId) + " closes section " + id);
        }
    }

    private static ProtocolException invalid(String message) {
        return new ProtocolException(ProtocolError.INVALID_FIELD, message);
    }
}
