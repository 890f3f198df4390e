package io.livemig.migration.ram;

import io.livemig.migration.protocol.BlockListEntry;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The RAM blocks of one migration in their defined order: the source's order is the order of the
 * stream's block list and of every block index on the wire (spec section 4.2).
 *
 * <p>Owns its blocks: {@link #close()} closes each (freeing owned memory, leaving wrapped memory alone).
 */
public final class RamBlocks implements Iterable<RamBlock>, AutoCloseable {

    private final List<RamBlock> blocks;
    private final Map<String, Integer> indexByName;

    private RamBlocks(List<RamBlock> blocks) {
        this.blocks = List.copyOf(blocks);
        Map<String, Integer> byName = new HashMap<>();
        for (int i = 0; i < this.blocks.size(); i++) {
            RamBlock block = this.blocks.get(i);
            if (byName.putIfAbsent(block.name(), i) != null) {
                throw new IllegalArgumentException("two RAM blocks are named '" + block.name() + "'");
            }
        }
        List<RamBlock> byOffset = new ArrayList<>(this.blocks);
        byOffset.sort((a, b) -> Long.compare(a.offset(), b.offset()));
        for (int i = 1; i < byOffset.size(); i++) {
            RamBlock previous = byOffset.get(i - 1);
            RamBlock next = byOffset.get(i);
            if (previous.offset() + previous.usedLength() > next.offset()) {
                throw new IllegalArgumentException("RAM blocks '" + previous.name() + "' and '" + next.name()
                        + "' overlap in the RAM address space");
            }
        }
        this.indexByName = Map.copyOf(byName);
    }

    /**
     * A set of existing blocks, in the given order.
     *
     * @param blocks uniquely named blocks whose offsets do not overlap
     * @return the set, owning the blocks
     */
    public static RamBlocks of(List<RamBlock> blocks) {
        return new RamBlocks(blocks);
    }

    /**
     * Allocates blocks in the given order, placed one after another in the RAM address space.
     *
     * @param layout names and used lengths
     * @return the set, owning the blocks
     */
    public static RamBlocks allocate(List<BlockListEntry> layout) {
        return allocate(layout, BlockAllocator.ANONYMOUS);
    }

    /**
     * Makes blocks in the given order with an allocator, placed one after another in the RAM address space.
     *
     * @param layout names and used lengths
     * @param allocator makes each block's memory
     * @return the set, owning the blocks
     */
    public static RamBlocks allocate(List<BlockListEntry> layout, BlockAllocator allocator) {
        List<RamBlock> allocated = new ArrayList<>();
        boolean success = false;
        try {
            long offset = 0;
            for (BlockListEntry entry : layout) {
                RamBlock block = allocator.allocate(entry.idstr(), entry.usedLength(), offset);
                allocated.add(block);
                if (!block.name().equals(entry.idstr()) || block.usedLength() != entry.usedLength()) {
                    throw new IllegalStateException("the block allocator made " + block + " for RAM block '"
                            + entry.idstr() + "' of " + entry.usedLength() + " bytes");
                }
                offset += entry.usedLength();
            }
            RamBlocks blocks = new RamBlocks(allocated);
            success = true;
            return blocks;
        } finally {
            if (!success) {
                allocated.forEach(RamBlock::close);
            }
        }
    }

    /**
     * What a destination does by default: allocates the blocks the source's block list announces, unless
     * they need more than {@code memoryLimit} bytes in total.
     *
     * @param announced the block list from the setup RAM section
     * @param memoryLimit most bytes this destination may allocate
     * @return the set, owning the blocks
     * @throws RamLimitExceededException if the blocks need more than the limit (nothing is allocated)
     */
    public static RamBlocks allocateAnnounced(List<BlockListEntry> announced, long memoryLimit) {
        return allocateAnnounced(announced, memoryLimit, BlockAllocator.ANONYMOUS);
    }

    /**
     * {@link #allocateAnnounced(List, long)} with the application's allocator.
     *
     * @param announced the block list from the setup RAM section
     * @param memoryLimit most bytes this destination may allocate
     * @param allocator makes each block's memory
     * @return the set, owning the blocks
     * @throws RamLimitExceededException if the blocks need more than the limit (nothing is allocated)
     */
    public static RamBlocks allocateAnnounced(List<BlockListEntry> announced, long memoryLimit,
            BlockAllocator allocator) {
        long total = 0;
        for (BlockListEntry entry : announced) {
            total = Math.addExact(total, entry.usedLength());
        }
        if (total > memoryLimit) {
            throw new RamLimitExceededException(announced.size(), total, memoryLimit);
        }
        return allocate(announced, allocator);
    }

    /**
     * Number of blocks.
     *
     * @return the count
     */
    public int size() {
        return blocks.size();
    }

    /**
     * The block at an index (the wire's block index).
     *
     * @param index 0 to {@code size() - 1}
     * @return the block
     */
    public RamBlock get(int index) {
        return blocks.get(index);
    }

    /**
     * A block's index.
     *
     * @param name the block's name
     * @return its index, if present
     */
    public Optional<Integer> indexOf(String name) {
        return Optional.ofNullable(indexByName.get(name));
    }

    /**
     * A block by name.
     *
     * @param name the block's name
     * @return the block, if present
     */
    public Optional<RamBlock> byName(String name) {
        return indexOf(name).map(blocks::get);
    }

    /**
     * The blocks in order.
     *
     * @return an unmodifiable list
     */
    public List<RamBlock> asList() {
        return Collections.unmodifiableList(blocks);
    }

    /**
     * Total used bytes: the MEM_SIZE of the setup RAM section.
     *
     * @return the sum of used lengths
     */
    public long totalBytes() {
        long total = 0;
        for (RamBlock block : blocks) {
            total += block.usedLength();
        }
        return total;
    }

    /**
     * The block list as the setup RAM section carries it.
     *
     * @return names and used lengths, in order
     */
    public List<BlockListEntry> blockList() {
        return blocks.stream().map(b -> new BlockListEntry(b.name(), b.usedLength())).toList();
    }

    @Override
    public Iterator<RamBlock> iterator() {
        return blocks.iterator();
    }

    /** Closes every block (idempotent). */
    @Override
    public void close() {
        blocks.forEach(RamBlock::close);
    }

    @Override
    public String toString() {
        return "RamBlocks" + blocks;
    }
}
