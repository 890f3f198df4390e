package io.livemig.migration.stream;

import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.ProtocolError;
import io.livemig.migration.protocol.ProtocolException;
import io.livemig.migration.protocol.RamStream;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The body of one RAM section part as QEMU 7.2's {@code ram_load_precopy} reads it, for
 * {@link StreamParser}: {@code be64 (address | flags)} words up to EOS. MEM_SIZE with the block list opens
 * the setup part; HOOK hands over to the RDMA registration loop (RDMA mode); PAGE and ZERO records carry
 * pages (exec/TCP mode), each naming its block unless CONTINUE says it is the previous record's (which
 * carries over from part to part). Every page is checked to lie inside a block of the list, so that nothing
 * is ever written outside a block.
 */
final class RamSectionParser {

    private enum Field {
        /** A {@code be64} word. */
        WORD,
        /** {@code u8 len, idstr} of a block list entry. */
        BLOCK_NAME,
        /** {@code be64 used_length} of a block list entry. */
        BLOCK_LENGTH,
        /** {@code u8 len, idstr} of a page record without CONTINUE. */
        PAGE_BLOCK,
        /** The page's bytes. */
        PAGE_DATA,
        /** The fill byte of a ZERO record. */
        ZERO_FILL,
        /** After EOS: the part's body is over. */
        ENDED
    }

    private static final int PAGE = RamStream.TARGET_PAGE_SIZE;

    private Field field = Field.ENDED;
    private RamPhase phase;
    private boolean firstWord;
    private long blockListTotal;
    private long blockListRemaining;
    private List<BlockListEntry> blocks;
    private String blockName;
    /** Used length by name, once the block list is whole. */
    private final Map<String, Long> lengths = new LinkedHashMap<>();
    private String lastBlock;
    private long pageOffset;
    private int pageFlags;

    /** Starts a part's body. */
    void begin(RamPhase part) {
        phase = part;
        firstWord = true;
        field = Field.WORD;
    }

    /** Whether the part's EOS was read. */
    boolean ended() {
        return field == Field.ENDED;
    }

    /** Drops a partly read block list. */
    void clear() {
        blocks = null;
    }

    /** Size of the whole field awaited, given the buffered bytes. */
    long need(ByteBuf in) {
        return switch (field) {
            case WORD, BLOCK_LENGTH -> Long.BYTES;
            case BLOCK_NAME, PAGE_BLOCK -> !in.isReadable() ? 1 : 1 + in.getUnsignedByte(in.readerIndex());
            case PAGE_DATA -> PAGE;
            case ZERO_FILL -> 1;
            case ENDED -> 0;
        };
    }

    /** Reads the awaited field, which is whole in {@code in}; returns the event it completes, or null. */
    StreamEvent read(ByteBuf in) {
        switch (field) {
            case WORD -> {
                return word(in.readLong());
            }
            case BLOCK_NAME -> {
                blockName = StreamParser.readName(in);
                field = Field.BLOCK_LENGTH;
            }
            case BLOCK_LENGTH -> {
                return blockLength(in.readLong());
            }
            case PAGE_BLOCK -> page(StreamParser.readName(in));
            case PAGE_DATA -> {
                byte[] data = new byte[PAGE];
                in.readBytes(data);
                field = Field.WORD;
                return new StreamEvent.RamPage(lastBlock, pageOffset, data);
            }
            case ZERO_FILL -> {
                field = Field.WORD;
                return new StreamEvent.RamZeroPage(lastBlock, pageOffset, in.readByte());
            }
            case ENDED -> throw new AssertionError("the RAM part has ended");
        }
        return null;
    }

    private StreamEvent word(long word) {
        long address = word & ~(PAGE - 1L);
        int flags = (int) (word & (PAGE - 1));
        boolean first = firstWord;
        firstWord = false;
        if (phase == RamPhase.SETUP && first && flags != RamStream.FLAG_MEM_SIZE) {
            throw invalid("the RAM setup part must begin with MEM_SIZE");
        }
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
                return new StreamEvent.RamHook(phase);
            }
            case RamStream.FLAG_EOS -> {
                field = Field.ENDED;
                return null;
            }
            case RamStream.FLAG_PAGE, RamStream.FLAG_ZERO, RamStream.FLAG_PAGE | RamStream.FLAG_CONTINUE,
                    RamStream.FLAG_ZERO | RamStream.FLAG_CONTINUE -> {
                pageOffset = address;
                pageFlags = flags;
                if ((flags & RamStream.FLAG_CONTINUE) == 0) {
                    field = Field.PAGE_BLOCK;
                    return null;
                }
                if (lastBlock == null) {
                    throw invalid(String.format("page record at offset 0x%x continues a block, but none came before",
                            address));
                }
                page(lastBlock);
                return null;
            }
            default -> throw invalid(String.format("unexpected RAM flags 0x%x in the migration stream (livemig reads"
                    + " MEM_SIZE, ZERO, PAGE, CONTINUE, EOS and HOOK)", flags));
        }
    }

    /** A page record's block is known: check that the page lies inside it, then read its body. */
    private void page(String block) {
        Long length = lengths.get(block);
        if (length == null) {
            throw invalid("page record for unknown RAM block '" + block + "'");
        }
        if (pageOffset > length - PAGE) {
            throw invalid(String.format("page at offset 0x%x is outside RAM block '%s' (0x%x bytes)", pageOffset,
                    block, length));
        }
        lastBlock = block;
        field = (pageFlags & RamStream.FLAG_PAGE) != 0 ? Field.PAGE_DATA : Field.ZERO_FILL;
    }

    private StreamEvent blockLength(long usedLength) {
        if (usedLength <= 0 || usedLength > blockListRemaining) {
            throw invalid("RAM block '" + blockName + "' has used length " + Long.toUnsignedString(usedLength)
                    + ", which does not fit the announced total of " + blockListTotal + " bytes");
        }
        if (lengths.putIfAbsent(blockName, usedLength) != null) {
            throw invalid("RAM block '" + blockName + "' is announced twice");
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
        field = Field.WORD;
        return event;
    }

    private static ProtocolException invalid(String message) {
        return new ProtocolException(ProtocolError.INVALID_FIELD, message);
    }
}
