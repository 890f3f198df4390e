package io.livemig.migration.source;

import io.livemig.migration.protocol.Chunks;
import io.livemig.migration.ram.DirtyPages;
import io.livemig.migration.ram.RamBlock;
import java.util.function.Consumer;

/**
 * Turns a block's dirty pages into the RDMA WRITEs QEMU would post for them: maximal runs of
 * contiguous pages, cut at every 1 MiB chunk boundary (spec section 7.2). The result is the same as
 * QEMU's page-by-page merging, computed from runs instead of pages.
 */
public final class WriteMerger {

    private WriteMerger() {
    }

    /**
     * Emits the writes for one block, in ascending address order.
     *
     * @param blockIndex the block's index
     * @param dirty the block's dirty pages from this round's sync
     * @param sink receives each write
     */
    public static void forEachWrite(int blockIndex, DirtyPages dirty, Consumer<ChunkWrite> sink) {
        dirty.forEachRun((firstPage, pageCount) -> {
            long offset = firstPage * RamBlock.PAGE_SIZE;
            long end = (firstPage + pageCount) * RamBlock.PAGE_SIZE;
            while (offset < end) {
                long chunkEnd = (Chunks.index(offset) + 1) << Chunks.SHIFT;
                long writeEnd = Math.min(end, chunkEnd);
                sink.accept(new ChunkWrite(blockIndex, offset, writeEnd - offset));
                offset = writeEnd;
            }
        });
    }
}
