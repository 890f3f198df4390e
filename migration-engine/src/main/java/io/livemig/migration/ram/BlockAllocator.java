package io.livemig.migration.ram;

/**
 * Makes the memory of one RAM block a destination receives into, when the application gives no layout:
 * anonymous memory by default ({@link RamBlock#allocate}), or for example a file mapping for a named
 * block ({@link RamBlock#mapFile}). Called once per announced block, in the source's order, before RAM
 * BLOCKS RESULT.
 */
@FunctionalInterface
public interface BlockAllocator {

    /** Anonymous memory for every block. */
    BlockAllocator ANONYMOUS = RamBlock::allocate;

    /**
     * Makes one block.
     *
     * @param name the announced name
     * @param usedLength the announced used length in bytes
     * @param offset where the block sits in this destination's RAM address space
     * @return a block of exactly that name and length, owned by the caller
     */
    RamBlock allocate(String name, long usedLength, long offset);
}
