package io.livemig.migration.source;

import io.livemig.migration.protocol.Chunks;

/**
 * The source's per-chunk cache of the destination's rkeys for one block (QEMU's {@code remote_keys}),
 * filled by REGISTER RESULTs in dynamic mode. Keys stay valid across rounds, so later rounds write without any
 * control traffic, until the source unregisters the chunk to stay under {@code max-pinned-bytes}. 0 means "not registered": a destination never
 * hands out rkey 0 (QEMU relies on the same convention).
 *
 * <p>Confined to the thread that drives the source's writes.
 */
public final class RemoteKeyCache {

    private final int[] keys;

    /**
     * Creates an empty cache.
     *
     * @param blockLength the block's used length; QEMU allots {@code (length >> 20) + 1} chunks
     */
    public RemoteKeyCache(long blockLength) {
        long chunks = Chunks.count(blockLength);
        if (chunks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("block of " + blockLength + " bytes has too many chunks");
        }
        this.keys = new int[(int) chunks];
    }

    /**
     * Whether the chunk has a key.
     *
     * @param chunk chunk index
     * @return true once {@link #put} stored one
     */
    public boolean isRegistered(long chunk) {
        return keys[(int) chunk] != 0;
    }

    /**
     * The chunk's key.
     *
     * @param chunk chunk index
     * @return the rkey, or 0 when unregistered
     */
    public int get(long chunk) {
        return keys[(int) chunk];
    }

    /**
     * Stores the key a REGISTER RESULT returned.
     *
     * @param chunk chunk index
     * @param rkey the key; 0 is refused since it means "unregistered"
     * @throws IllegalArgumentException for rkey 0 (a destination bug the source must not paper over)
     */
    public void put(long chunk, int rkey) {
        if (rkey == 0) {
            throw new IllegalArgumentException("destination returned rkey 0 for chunk " + chunk
                    + "; 0 means 'unregistered'");
        }
        keys[(int) chunk] = rkey;
    }

    /**
     * Forgets the chunk's key once the destination unregistered it ({@code max-pinned-bytes}).
     *
     * @param chunk chunk index
     */
    public void remove(long chunk) {
        keys[(int) chunk] = 0;
    }

    /**
     * Chunks with a key.
     *
     * @return the count
     */
    public int registeredChunks() {
        int n = 0;
        for (int key : keys) {
            if (key != 0) {
                n++;
            }
        }
        return n;
    }
}
