package io.livemig.migration.stream;

import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.ProtocolError;
import io.livemig.migration.protocol.ProtocolException;
import io.livemig.migration.protocol.RamStream;
import io.livemig.migration.protocol.VmStateStream;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Decodes the migration byte stream that {@link MigrationStreamWriter} produces, as bytes arrive, without
 * ever waiting for them: the caller {@link #feed feeds} each QEMU FILE payload and takes the
 * {@link StreamEvent}s that became complete with {@link #next()}. The stream is read as QEMU's
 * {@code qemu_loadvm_state} and {@code ram_load} read it in RDMA mode: the header, the RAM section (no
 * page data: MEM_SIZE with the block list, HOOK, EOS), full sections of non-live state, footers and the
 * end of stream. Every violation is a {@link ProtocolException}; a transport that ends before the end of
 * stream is {@link ProtocolError#TRUNCATED} ({@link #endOfInput()}).
 *
 * <p>Each field is checked as soon as its last byte arrives, in the order QEMU reads them, so the
 * outcome for any input is the same however it is split into pieces, and the same as a pulling reader's
 * ({@link MigrationStreamReader} is this decoder behind a blocking input).
 *
 * <p>Typical use on the destination (spec section 8.2: the reader pulls):
 * <pre>{@code
 * decoder.feed(message.data().retain());   // one QEMU FILE payload; the decoder now owns that reference
 * message.release();
 * for (StreamEvent event; (event = decoder.next()) != null; ) {
 *     handle(event);                       // a RamHook runs the registration loop before anything else
 * }
 * // next() returned null: send READY for more bytes (unless finished())
 * }</pre>
 *
 * <p>Buffers: {@link #feed} takes over one reference of each buffer and composes them without copying;
 * the decoder releases a buffer once it has read all of it, at the end of stream, on a protocol error
 * or at {@link #close()}. Full-section state is copied into its event's array as it arrives. Once
 * finished, failed or closed the decoder holds no buffer, so {@link #close()} matters only for a
 * decoder abandoned mid-stream; it is idempotent.
 *
 * <p>Thread-safe: every method holds the decoder's monitor, so that {@link #close()} (a cancellation)
 * may come from another thread than the one feeding. Events are meant for one consumer.
 */
public final class MigrationStreamDecoder implements AutoCloseable {

    /** The field the decoder waits for; each is read whole, then checked, as QEMU reads it. */
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
    /** Bytes fed and not yet read; created on the first feed, released (null) once no longer needed. */
    private CompositeByteBuf input;
    /** Events decoded by {@link #endOfInput()}'s look-ahead and not yet taken by {@link #next()}. */
    private final ArrayDeque<StreamEvent> decodedAhead = new ArrayDeque<>();
    private Field field = Field.MAGIC;
    /** The first protocol error; sticky: every later call reports it again. */
    private ProtocolException failure;
    private boolean endTaken;
    private boolean closed;

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
     * Creates a decoder at the start of a stream.
     *
     * @param maxStateBytes largest non-live section accepted (its state is held in memory)
     */
    public MigrationStreamDecoder(long maxStateBytes) {
        this.maxStateBytes = maxStateBytes;
    }

    /**
     * Appends stream bytes: the readable bytes of {@code bytes}, which may split fields anywhere. Takes
     * over one reference: the decoder releases it (once read, or right away when the buffer is empty or
     * the decoder is finished, failed or closed, in which case the bytes are ignored); retain it first to
     * keep using it. Decodes nothing: call {@link #next()}.
     *
     * @param bytes the next bytes of the stream
     */
    public synchronized void feed(ByteBuf bytes) {
        Objects.requireNonNull(bytes, "bytes");
        if (closed || failure != null || field == Field.DONE || !bytes.isReadable()) {
            // Bytes after QEMU_VM_EOF (QEMU's VMDESCRIPTION would follow) are not part of what livemig reads.
            bytes.release();
            return;
        }
        if (input == null) {
            // No limit on components: consolidating would copy, and read components are discarded anyway.
            // Not leak-tracked itself: it allocates nothing, and the buffers it holds are tracked as fed.
            input = new CompositeByteBuf(UnpooledByteBufAllocator.DEFAULT, false, Integer.MAX_VALUE);
        }
        input.addComponent(true, bytes);
    }

    /**
     * Decodes the next complete event from the bytes fed so far.
     *
     * @return the next event in stream order, or null when more bytes are needed (or after {@link StreamEvent.End},
     *     or once closed)
     * @throws ProtocolException for a malformed stream; the decoder then stays failed and throws the same
     *     exception from every later call
     */
    public synchronized StreamEvent next() {
        if (closed) {
            return null;
        }
        StreamEvent event = decodedAhead.poll();
        if (event == null) {
            if (failure != null) {
                throw failure;
            }
            event = decode();
        }
        if (event instanceof StreamEvent.End) {
            endTaken = true;
        }
        return event;
    }

    /**
     * Whether {@link #next()} has returned the end-of-stream event: the stream is complete.
     *
     * @return true after {@link StreamEvent.End}
     */
    public synchronized boolean finished() {
        return endTaken;
    }

    /**
     * Tells the decoder that no more bytes will come (the transport ended). Fine after the end-of-stream
     * marker; otherwise the stream stopped early. Events still decodable from the bytes fed remain
     * available from {@link #next()}, which then throws the same exception.
     *
     * @throws ProtocolException {@link ProtocolError#TRUNCATED} if the bytes fed end before the end-of-stream
     *     marker, or the protocol error those bytes hold
     */
    public synchronized void endOfInput() {
        if (closed) {
            return;
        }
        if (failure != null) {
            throw failure;
        }
        // Decode what is still buffered, so that the answer does not depend on whether next() was drained.
        while (field != Field.DONE) {
            StreamEvent event = decode();
            if (event == null) {
                throw fail(truncated());
            }
            decodedAhead.add(event);
        }
    }

    /**
     * Bytes fed and not yet decoded. After a {@link StreamEvent.RamHook} this is zero when the source kept
     * spec section 8.3's invariant (the HOOK ends its QEMU FILE message).
     *
     * @return the number of buffered bytes
     */
    public synchronized int bufferedBytes() {
        return readable();
    }

    /**
     * The fewest further bytes the decoder needs before {@link #next()} can make progress, when it has
     * returned null: exactly the rest of the field it waits for, so a pulling reader never reads past a
     * HOOK. Zero once finished, failed or closed.
     *
     * @return bytes wanted
     */
    synchronized long bytesNeeded() {
        if (closed || failure != null || field == Field.DONE) {
            return 0;
        }
        return Math.max(0, need() - readable());
    }

    /** Releases the buffered bytes; later calls see a decoder that yields nothing. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        decodedAhead.clear();
        releaseInput();
    }

    /** The exception for a stream whose bytes end before the end-of-stream marker. */
    static ProtocolException truncated() {
        return new ProtocolException(ProtocolError.TRUNCATED, "the migration stream ended before its EOF marker");
    }

    /** Reads fields until one completes an event, or until the buffered bytes do not hold the next field. */
    private StreamEvent decode() {
        try {
            while (field != Field.DONE && canRead()) {
                StreamEvent event = read();
                if (event != null) {
                    return event;
                }
            }
            if (input != null) {
                input.discardReadComponents();
            }
            return null;
        } catch (ProtocolException e) {
            throw fail(e);
        }
    }

    private ProtocolException fail(ProtocolException e) {
        failure = e;
        releaseInput();
        sectionState = null;
        blocks = null;
        return e;
    }

    private void releaseInput() {
        if (input != null) {
            input.release();
            input = null;
        }
    }

    private int readable() {
        return input == null ? 0 : input.readableBytes();
    }

    private boolean canRead() {
        int readable = readable();
        // State is copied piecewise so that a large section is never held twice.
        return readable >= need() || (field == Field.STATE_BYTES && readable > 0);
    }

    /** Size of the whole field awaited. */
    private long need() {
        return switch (field) {
            case SECTION_TYPE, FOOTER_MARKER -> 1;
            case MAGIC, VERSION, SECTION_ID, FOOTER_ID -> Integer.BYTES;
            case SECTION_NUMBERS, STATE_LENGTH, RAM_WORD, BLOCK_LENGTH -> Long.BYTES;
            case SECTION_NAME, BLOCK_NAME -> readable() == 0 ? 1 : 1 + input.getUnsignedByte(input.readerIndex());
            case STATE_BYTES -> sectionState.length - stateFilled;
            case DONE -> 0;
        };
    }

    /** Reads and checks the awaited field (whole in the buffer), moves on, and returns an event it completes. */
    private StreamEvent read() {
        switch (field) {
            case MAGIC -> {
                int magic = input.readInt();
                if (magic != VmStateStream.MAGIC) {
                    throw invalid(String.format("not a QEMU migration stream: magic 0x%08x, expected 0x%08x ('QEVM')",
                            magic, VmStateStream.MAGIC));
                }
                field = Field.VERSION;
            }
            case VERSION -> {
                int version = input.readInt();
                if (version != VmStateStream.VERSION) {
                    throw invalid("unsupported migration stream version " + Integer.toUnsignedString(version)
                            + " (expected " + VmStateStream.VERSION + ")");
                }
                field = Field.SECTION_TYPE;
            }
            case SECTION_TYPE -> {
                return sectionType(input.readUnsignedByte());
            }
            case SECTION_ID -> sectionId(input.readInt());
            case SECTION_NAME -> {
                sectionName = readName();
                field = Field.SECTION_NUMBERS;
            }
            case SECTION_NUMBERS -> {
                instanceId = input.readInt();
                versionId = input.readInt();
                sectionNumbers();
            }
            case STATE_LENGTH -> stateLength(input.readLong());
            case STATE_BYTES -> {
                int n = Math.min(readable(), sectionState.length - stateFilled);
                input.readBytes(sectionState, stateFilled, n);
                stateFilled += n;
                if (stateFilled == sectionState.length) {
                    field = Field.FOOTER_MARKER;
                }
            }
            case RAM_WORD -> {
                return ramWord(input.readLong());
            }
            case BLOCK_NAME -> {
                blockName = readName();
                field = Field.BLOCK_LENGTH;
            }
            case BLOCK_LENGTH -> {
                return blockLength(input.readLong());
            }
            case FOOTER_MARKER -> {
                int marker = input.readUnsignedByte();
                if (marker != VmStateStream.SECTION_FOOTER) {
                    throw invalid(String.format("missing footer of section %d: read 0x%02x instead of 0x7e",
                            sectionId, marker));
                }
                field = Field.FOOTER_ID;
            }
            case FOOTER_ID -> {
                return footerId(input.readInt());
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
                releaseInput();
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
    private String readName() {
        int length = input.readUnsignedByte();
        if (length == 0) {
            throw invalid("empty name in the migration stream");
        }
        byte[] bytes = new byte[length];
        input.readBytes(bytes);
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
