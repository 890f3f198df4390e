package io.livemig.migration.source;

import io.livemig.migration.protocol.Chunks;

/**
 * One RDMA WRITE the source will post: contiguous dirty pages of one block, never crossing a 1 MiB
 * chunk boundary (spec section 7.2: QEMU merges a page into the pending write only up to the end of
 * the pending write's chunk, so its largest write is one chunk).
 *
 * @param blockIndex the block's index (source order)
 * @param offset byte offset inside the block
 * @param length bytes, a whole number of pages, at most one chunk
 */
public record ChunkWrite(int blockIndex, long offset, long length) {

    /**
     * Checks the range.
     *
     * @throws IllegalArgumentException if the range is empty or crosses a chunk boundary
     */
    public ChunkWrite {
        if (offset < 0 || length <= 0 || Chunks.index(offset) != Chunks.index(offset + length - 1)) {
            throw new IllegalArgumentException("write [" + offset + ", +" + length + ") is empty or crosses a chunk");
        }
    }

    /**
     * The chunk the write lies in.
     *
     * @return {@code offset >> 20}
     */
    public long chunk() {
        return Chunks.index(offset);
    }
}
