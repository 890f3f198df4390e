package io.livemig.migration.source;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * The chunks registered at the destination (and locally) in dynamic mode, least recently written first, for the
 * {@code max-pinned-bytes} budget. QEMU keeps every chunk it registered until the end of the migration (its
 * UNREGISTER path is dead code, spec section 5.6 and the TODO list in 12.2), so a migration pins as much memory on
 * both hosts as it ever wrote. With a budget the sender makes room before registering more: it picks the least
 * recently written chunks that no write needs right now, sends UNREGISTER REQUEST for them and deregisters its own
 * regions once UNREGISTER FINISHED came back; a chunk dirtied again later is registered again.
 *
 * <p>A chunk is <em>in use</em> from the moment a batch decided to write it until that write's completion (or
 * failure): in-use chunks are never evicted, and a batch that finds no room waits for a completion. Thread-safe:
 * batches are decided on the round's thread, writes complete on the event loop.
 */
final class PinnedChunks {

    /** One registered chunk. */
    static final class Chunk {
        final int blockIndex;
        final long chunk;
        final long bytes;
        int users;

        Chunk(int blockIndex, long chunk, long bytes) {
            this.blockIndex = blockIndex;
            this.chunk = chunk;
            this.bytes = bytes;
        }

        @Override
        public String toString() {
            return "chunk " + chunk + " of block " + blockIndex;
        }
    }

    /** Access order: iteration starts at the least recently used chunk. */
    private final Map<Long, Chunk> chunks = new LinkedHashMap<>(64, 0.75f, true);
    private long pinnedBytes;
    private long highWater;
    /** Completed (and replaced) whenever a chunk stops being in use. */
    private Sinks.Empty<Void> released = Sinks.empty();

    /**
     * Marks a registered chunk used by one more write, and most recently used.
     *
     * @param key the chunk's key
     * @return false when the chunk is not registered
     */
    synchronized boolean use(long key) {
        Chunk chunk = chunks.get(key);
        if (chunk == null) {
            return false;
        }
        chunk.users++;
        return true;
    }

    /**
     * Adds a chunk just registered, used by one write.
     *
     * @param key the chunk's key
     * @param blockIndex its block
     * @param chunk its index in the block
     * @param bytes its length
     */
    synchronized void registered(long key, int blockIndex, long chunk, long bytes) {
        Chunk added = new Chunk(blockIndex, chunk, bytes);
        added.users = 1;
        chunks.put(key, added);
        pinnedBytes += bytes;
        highWater = Math.max(highWater, pinnedBytes);
    }

    /**
     * One write to the chunk completed or failed.
     *
     * @param key the chunk's key
     */
    void done(long key) {
        Sinks.Empty<Void> wake = null;
        synchronized (this) {
            Chunk chunk = chunks.get(key);
            if (chunk != null && --chunk.users == 0) {
                wake = released;
                released = Sinks.empty();
            }
        }
        if (wake != null) {
            wake.tryEmitEmpty();
        }
    }

    /**
     * Picks and removes the least recently written chunks not in use until {@code more} bytes fit under
     * {@code budget}.
     *
     * @param more bytes about to be registered
     * @param budget the budget
     * @return the chunks to unregister (possibly too few: then {@link #whenReleased()} says when to try again)
     */
    synchronized List<Chunk> evictFor(long more, long budget) {
        List<Chunk> victims = new ArrayList<>();
        long pinned = pinnedBytes;
        for (Iterator<Chunk> it = chunks.values().iterator(); it.hasNext() && pinned + more > budget; ) {
            Chunk chunk = it.next();
            if (chunk.users == 0) {
                it.remove();
                victims.add(chunk);
                pinned -= chunk.bytes;
            }
        }
        pinnedBytes = pinned;
        return victims;
    }

    /**
     * Whether {@code more} bytes fit under the budget now.
     *
     * @param more bytes about to be registered
     * @param budget the budget
     * @return true if they fit
     */
    synchronized boolean fits(long more, long budget) {
        return pinnedBytes + more <= budget;
    }

    /**
     * Completes when a chunk next stops being in use.
     *
     * @return the signal
     */
    synchronized Mono<Void> whenReleased() {
        return released.asMono();
    }

    /**
     * Bytes registered now.
     *
     * @return the sum of the registered chunks' lengths
     */
    synchronized long pinnedBytes() {
        return pinnedBytes;
    }

    /**
     * The most bytes registered at any time.
     *
     * @return the high-water mark
     */
    synchronized long highWater() {
        return highWater;
    }
}
