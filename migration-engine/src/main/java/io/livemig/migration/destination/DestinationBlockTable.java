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
import java.math.BigInteger;
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
     * @throws ProtocolException ({@link ProtocolError#INVALID_FIELD}) for a bad index, address or chunk count,
     *     naming the request: {@code refused REGISTER REQUEST for block 0 ('pc.ram'), offset 0x300000, 1 chunk:
     *     ...}
     */
    public ChunkRange resolveRegister(RegisterRequest request) {
        String refused = "refused REGISTER REQUEST for block " + Integer.toUnsignedString(request.currentIndex());
        RamBlock block = block(request.currentIndex(), refused);
        refused += " ('" + block.name() + "'), " + where(request.key(), block) + ", "
                + chunkCount(request.chunks()) + ": ";
        long offset = offsetInBlock(request.key(), block, 0, refused);
        if (offset == block.usedLength()) {
            // Inside the address range only as its end: there is no byte to register.
            throw refusal(refused + "that is the block's end, with no byte left to register");
        }
        long first = Chunks.index(offset);
        long lastChunkExclusive = Chunks.count(block.usedLength());
        if (request.chunks() < 0 || request.chunks() >= lastChunkExclusive - first) {
            BigInteger last = BigInteger.valueOf(first).add(unsigned(request.chunks()));
            throw refusal(refused + "chunks " + first + " to " + last + " go past the block's last chunk, " + (lastChunkExclusive - 1));
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
     *     a range outside the block, naming the request: {@code refused COMPRESS for block 0 ('pc.ram'), offset
     *     0x200000, 12288 bytes: ...}
     */
    public MemorySegment resolveCompress(Compress compress) {
        String refused = "refused COMPRESS for block " + Integer.toUnsignedString(compress.blockIndex());
        RamBlock block = block(compress.blockIndex(), refused);
        refused += " ('" + block.name() + "'), " + where(compress.offset(), block) + ", "
                + Long.toUnsignedString(compress.length()) + " bytes: ";
        if (compress.value() != 0) {
            // QEMU's destination fills with the value; its source only ever sends zero, and so does livemig's.
            throw refusal(refused + "fill value " + Integer.toUnsignedString(compress.value())
                    + ", but only zero pages are supported");
        }
        long offset = offsetInBlock(compress.offset(), block, compress.length(), refused);
        return block.memory().asSlice(offset, compress.length());
    }

    private RamBlock block(int index, String refused) {
        if (index < 0 || index >= ordered.size()) {
            throw refusal(refused + ": no such block (the destination has " + ordered.size() + ")");
        }
        return ordered.get(index);
    }

    /**
     * The offset inside the block of a wire address, checked like {@link Chunks#offsetInBlock} (QEMU checks
     * only the lower bound) but with a reason that names the request.
     */
    private static long offsetInBlock(long wireAddress, RamBlock block, long rangeLength, String refused) {
        if (Long.compareUnsigned(wireAddress, block.offset()) < 0) {
            throw refusal(refused + "the address is below the block's start, 0x" + Long.toHexString(block.offset()));
        }
        long offset = wireAddress - block.offset();
        if (Long.compareUnsigned(offset, block.usedLength()) > 0) {
            throw refusal(refused + "the offset is beyond the block's end, 0x" + Long.toHexString(block.usedLength()));
        }
        if (Long.compareUnsigned(rangeLength, block.usedLength() - offset) > 0) {
            throw refusal(refused + "the range ends beyond the block's end, 0x"
                    + Long.toHexString(block.usedLength()));
        }
        return offset;
    }

    /** Where a request points: its offset in the block, or its wire address when that lies below the block. */
    private static String where(long wireAddress, RamBlock block) {
        return Long.compareUnsigned(wireAddress, block.offset()) < 0
                ? "address 0x" + Long.toHexString(wireAddress)
                : "offset 0x" + Long.toHexString(wireAddress - block.offset());
    }

    /** The chunks a REGISTER REQUEST covers: its field counts the chunks after the first, as an unsigned u64. */
    private static String chunkCount(long chunksField) {
        BigInteger count = unsigned(chunksField).add(BigInteger.ONE);
        return count + (count.equals(BigInteger.ONE) ? " chunk" : " chunks");
    }

    private static BigInteger unsigned(long value) {
        return new BigInteger(Long.toUnsignedString(value));
    }

    private static ProtocolException refusal(String message) {
        return new ProtocolException(ProtocolError.INVALID_FIELD, message);
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
