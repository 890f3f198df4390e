package io.livemig.migration.destination;

import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.Chunks;
import io.livemig.migration.protocol.Compress;
import io.livemig.migration.protocol.ProtocolError;
import io.livemig.migration.protocol.ProtocolException;
import io.livemig.migration.protocol.RegisterRequest;
import io.livemig.migration.protocol.RemoteBlock;
import io.livemig.migration.ram.RamBlock;
import io.livemig.migration.ram.RamBlocks;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.ToIntFunction;

/**
 * The destination's block table in the source's order (spec sections 4.2 and 4.3), and the checks it
 * applies to every REGISTER REQUEST and COMPRESS before touching memory: block index, address and
 * length inside the block. QEMU checks only the lower address bound; livemig never lets a request
 * reach outside a block.
 */
public final class DestinationBlockTable {

    private final List<RamBlock> ordered;

    private DestinationBlockTable(List<RamBlock> ordered) {
        this.ordered = List.copyOf(ordered);
    }

    /**
     * Matches the local blocks to the block list of the source's stream, by name, in the source's
     * order (QEMU's {@code rdma_block_notification} then the sort by {@code src_index}). Local blocks the
     * source did not name go last, in their own order; the source then fails on the count, as with QEMU.
     *
     * @param local the destination's blocks
     * @param announced the block list from the setup RAM section
     * @return the table, indexed like the wire's block indices
     * @throws ProtocolException ({@link ProtocolError#INVALID_FIELD}) for an unknown name or a length
     *     that differs, with QEMU's texts
     */
    public static DestinationBlockTable match(RamBlocks local, List<BlockListEntry> announced) {
        List<RamBlock> ordered = new ArrayList<>();
        boolean[] named = new boolean[local.size()];
        for (BlockListEntry entry : announced) {
            int index = local.indexOf(entry.idstr()).orElseThrow(() -> new ProtocolException(
                    ProtocolError.INVALID_FIELD, "RAMBlock '" + entry.idstr() + "' not found on destination"));
            RamBlock block = local.get(index);
            if (block.usedLength() != entry.usedLength()) {
                throw new ProtocolException(ProtocolError.INVALID_FIELD, "Length mismatch: " + entry.idstr() + ": 0x"
                        + Long.toHexString(entry.usedLength()) + " in != 0x" + Long.toHexString(block.usedLength()));
            }
            if (named[index]) {
                throw new ProtocolException(ProtocolError.INVALID_FIELD,
                        "RAMBlock '" + entry.idstr() + "' is listed twice by the source");
            }
            named[index] = true;
            ordered.add(block);
        }
        for (int i = 0; i < named.length; i++) {
            if (!named[i]) {
                ordered.add(local.get(i));
            }
        }
        return new DestinationBlockTable(ordered);
    }

    /**
     * Number of blocks.
     *
     * @return the count
     */
    public int size() {
        return ordered.size();
    }

    /**
     * The block at a wire index.
     *
     * @param index the index
     * @return the block
     */
    public RamBlock get(int index) {
        return ordered.get(index);
    }

    /**
     * The payload of RAM BLOCKS RESULT.
     *
     * @param rkeyOfBlock the whole-block rkey under pin-all, or a function returning 0 in dynamic mode
     * @return one entry per block, in wire order
     */
    public List<RemoteBlock> remoteBlocks(ToIntFunction<RamBlock> rkeyOfBlock) {
        return ordered.stream()
                .map(b -> new RemoteBlock(b.address(), b.offset(), b.usedLength(), rkeyOfBlock.applyAsInt(b)))
                .toList();
    }

    /**
     * Resolves one REGISTER REQUEST record to the chunk range to register.
     *
     * @param request the record
     * @return the block, the first chunk and the memory of chunks {@code [chunk, chunk + chunks]}
     * @throws ProtocolException ({@link ProtocolError#INVALID_FIELD}) for a bad index, address or chunk count
     */
    public ChunkRange resolveRegister(RegisterRequest request) {
        RamBlock block = block(request.currentIndex(), "register");
        long offset = Chunks.offsetInBlock(request.key(), block.offset(), block.usedLength(), 0);
        if (offset == block.usedLength()) {
            // Inside the address range only as its end: there is no byte to register.
            throw new ProtocolException(ProtocolError.INVALID_FIELD, "bad register address 0x"
                    + Long.toHexString(request.key()) + ": the end of block '" + block.name() + "'");
        }
        long first = Chunks.index(offset);
        long lastChunkExclusive = Chunks.count(block.usedLength());
        if (request.chunks() < 0 || request.chunks() >= lastChunkExclusive - first) {
            throw new ProtocolException(ProtocolError.INVALID_FIELD, "register request for chunks " + first + " + "
                    + Long.toUnsignedString(request.chunks()) + " exceeds the " + lastChunkExclusive
                    + " chunks of block '" + block.name() + "'");
        }
        long start = Chunks.start(0, first);
        long end = Chunks.end(0, block.usedLength(), first + request.chunks());
        return new ChunkRange(block, request.currentIndex(), first, block.memory().asSlice(start, end - start));
    }

    /**
     * Resolves a COMPRESS to the memory to fill.
     *
     * @param compress the record
     * @return the range inside its block
     * @throws ProtocolException ({@link ProtocolError#INVALID_FIELD}) for a bad index, a non-zero value or
     *     a range outside the block
     */
    public MemorySegment resolveCompress(Compress compress) {
        RamBlock block = block(compress.blockIndex(), "compress");
        if (compress.value() != 0) {
            throw new ProtocolException(ProtocolError.INVALID_FIELD,
                    "Zero page with non-zero (" + Integer.toUnsignedString(compress.value()) + ") value");
        }
        long offset = Chunks.offsetInBlock(compress.offset(), block.offset(), block.usedLength(), compress.length());
        return block.memory().asSlice(offset, compress.length());
    }

    private RamBlock block(int index, String what) {
        if (index < 0 || index >= ordered.size()) {
            throw new ProtocolException(ProtocolError.INVALID_FIELD, "'" + what + "' bad block index "
                    + Integer.toUnsignedString(index) + " (vs " + ordered.size() + ")");
        }
        return ordered.get(index);
    }

    /**
     * A resolved registration.
     *
     * @param block the block
     * @param blockIndex its wire index
     * @param firstChunk the first chunk registered
     * @param memory the chunks' memory
     */
    public record ChunkRange(RamBlock block, int blockIndex, long firstChunk, MemorySegment memory) {
    }

    @Override
    public String toString() {
        return "DestinationBlockTable" + Arrays.toString(ordered.stream().map(RamBlock::name).toArray());
    }
}
