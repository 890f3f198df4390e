package io.livemig.examples.kv;

import io.livemig.migration.ram.RamBlock;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A key-value table that lives entirely in one {@link RamBlock}: open addressing with linear probing over fixed
 * 256-byte slots, so that the block's bytes <em>are</em> the table and a copy of the block on another host is the
 * same table. Nothing on the heap describes it: a second instance that wraps the migrated block reads every entry.
 *
 * <p>Slot layout (native byte order): key length (int; 0 is an empty slot), value length (int), then up to
 * {@value #MAX_KEY} key bytes and {@value #MAX_VALUE} value bytes. Entries are never removed, so a probe ends at
 * the first empty slot.
 *
 * <p>Writes are plain {@link MemorySegment} stores: the table never calls the dirty-tracking API unless built with
 * {@code markWrites} (for the last-resort {@code explicit} mode, where nothing else would see them). One lock
 * orders the writers and the readers; {@link #pause()} takes it, so when it returns no write is half done, and so does
 * {@link #holdWrites()}, which makes the writes that come during a hold wait ({@link PutResult#HELD}) instead of
 * refusing them.
 */
public final class KvTable {

    /** Bytes per slot. */
    public static final int SLOT = 256;
    /** Longest key, bytes of UTF-8. */
    public static final int MAX_KEY = 64;
    /** Longest value, bytes. */
    public static final int MAX_VALUE = SLOT - 8 - MAX_KEY;

    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;

    /** What the table accepts. */
    public enum State {
        /** Its memory is not there yet (a destination before the migration completed): neither reads nor writes. */
        WAITING,
        /** Reads and writes. */
        SERVING,
        /** Reads only: paused for a migration's switchover. */
        PAUSED
    }

    /** What a {@link #put} did. */
    public enum PutResult {
        /** Written: the write is in the block. */
        STORED,
        /** Refused: the table is paused for a migration's switchover, or waiting for its memory; write elsewhere. */
        REFUSED,
        /** Refused: every slot holds another key. */
        FULL,
        /**
         * Not written yet: a migration holds the writes for a moment; write again once {@link #writable()} completes.
         */
        HELD
    }

    private final RamBlock block;
    private final MemorySegment memory;
    private final long slots;
    private final boolean markWrites;
    private State state;
    /** Holds in force ({@link #holdWrites()}), and what completes when the last one ends (null while none is). */
    private int holds;
    private CompletableFuture<Void> released;

    /**
     * A table over a block's memory, as it is (empty when zero-filled; the migrated table on a destination).
     *
     * @param block the block; its size must be a multiple of {@link #SLOT}
     * @param markWrites whether each write also marks its pages in the block's dirty bitmap
     * @param state {@link State#SERVING}, or {@link State#WAITING} on a destination before its memory arrived
     */
    public KvTable(RamBlock block, boolean markWrites, State state) {
        this.block = block;
        this.memory = block.memory();
        this.slots = memory.byteSize() / SLOT;
        this.markWrites = markWrites;
        this.state = state;
    }

    /**
     * Stores a value under a key, unless paused or held.
     *
     * @param key 1 to {@value #MAX_KEY} bytes of UTF-8
     * @param value up to {@value #MAX_VALUE} bytes
     * @return what happened
     * @throws IllegalArgumentException if the key or the value is too long
     */
    public synchronized PutResult put(String key, byte[] value) {
        byte[] k = checkedKey(key);
        if (value.length > MAX_VALUE) {
            throw new IllegalArgumentException("value of " + value.length + " bytes (at most " + MAX_VALUE + ")");
        }
        if (state != State.SERVING) {
            return PutResult.REFUSED;
        }
        if (holds > 0) {
            return PutResult.HELD;
        }
        long slot = find(k);
        if (slot < 0) {
            return PutResult.FULL;
        }
        long at = slot * SLOT;
        // Value first, key length last: the key length is what makes a slot occupied.
        MemorySegment.copy(value, 0, memory, ValueLayout.JAVA_BYTE, at + 8 + MAX_KEY, value.length);
        memory.set(INT, at + 4, value.length);
        MemorySegment.copy(k, 0, memory, ValueLayout.JAVA_BYTE, at + 8, k.length);
        memory.set(INT, at, k.length);
        if (markWrites) {
            // Marked after writing: DirtyBitmap's rule for never losing the last write of a page.
            block.dirtyBitmap().markRange(at, SLOT);
        }
        return PutResult.STORED;
    }

    /**
     * The value under a key.
     *
     * @param key the key
     * @return the value; empty when absent
     * @throws IllegalStateException while {@link State#WAITING}
     */
    public synchronized Optional<byte[]> get(String key) {
        byte[] k = checkedKey(key);
        if (state == State.WAITING) {
            throw new IllegalStateException("the table's memory has not arrived");
        }
        long slot = find(k);
        if (slot < 0 || memory.get(INT, slot * SLOT) == 0) {
            return Optional.empty();
        }
        long at = slot * SLOT;
        byte[] value = new byte[memory.get(INT, at + 4)];
        MemorySegment.copy(memory, ValueLayout.JAVA_BYTE, at + 8 + MAX_KEY, value, 0, value.length);
        return Optional.of(value);
    }

    /**
     * Refuses writes from now on; returns once no write is in progress (QEMU's {@code vm_stop} for this service).
     */
    public synchronized void pause() {
        state = State.PAUSED;
    }

    /**
     * Holds the writes for a moment: until the returned release runs, {@link #put} answers {@link PutResult#HELD}
     * (a write to make again, not a refusal) and reads go on. Returns at once: the table's lock means that no write
     * is in progress when it does. A migration asks for this around a harvest that reads and then clears the pages'
     * dirty bits (soft-dirty), where a write in between would be lost.
     *
     * @return ends this hold (idempotent, from any thread)
     */
    public synchronized Runnable holdWrites() {
        if (holds++ == 0) {
            released = new CompletableFuture<>();
        }
        AtomicBoolean done = new AtomicBoolean();
        return () -> {
            if (done.compareAndSet(false, true)) {
                release();
            }
        };
    }

    private void release() {
        CompletableFuture<Void> ending;
        synchronized (this) {
            if (--holds > 0) {
                return;
            }
            ending = released;
            released = null;
        }
        // Not on the releasing thread (the migration's, between two steps of its round): the held writes run
        // wherever their continuations go.
        ending.completeAsync(() -> null);
    }

    /**
     * When writes go through again.
     *
     * @return completes when no hold is in force (at once when none is now); cancelling it changes nothing else
     */
    public synchronized CompletableFuture<Void> writable() {
        return released == null ? CompletableFuture.completedFuture(null) : released.copy();
    }

    /** Visible only for testing: puts waiting for the hold in force to end (through {@link #writable()}). */
    synchronized int waitingWrites() {
        return released == null ? 0 : released.getNumberOfDependents();
    }

    /** Accepts reads and writes (again: the migration failed, or the memory arrived on the destination). */
    public synchronized void serve() {
        state = State.SERVING;
    }

    /**
     * What the table accepts now.
     *
     * @return the state
     */
    public synchronized State state() {
        return state;
    }

    /**
     * Entries stored (a scan of the block).
     *
     * @return the count
     */
    public synchronized long size() {
        long count = 0;
        for (long slot = 0; slot < slots; slot++) {
            if (memory.get(INT, slot * SLOT) != 0) {
                count++;
            }
        }
        return count;
    }

    /** The slot holding the key, else the empty slot where it would go, else -1 (full). */
    private long find(byte[] key) {
        long start = Math.floorMod(hash(key), slots);
        for (long i = 0; i < slots; i++) {
            long slot = (start + i) % slots;
            long at = slot * SLOT;
            int length = memory.get(INT, at);
            if (length == 0 || (length == key.length && sameKey(at + 8, key))) {
                return slot;
            }
        }
        return -1;
    }

    private boolean sameKey(long at, byte[] key) {
        return MemorySegment.mismatch(memory, at, at + key.length, MemorySegment.ofArray(key), 0, key.length) == -1;
    }

    /** FNV-1a: stable across JVMs (String.hashCode is too, but this one spreads short keys better). */
    private static long hash(byte[] key) {
        long h = 0xcbf29ce484222325L;
        for (byte b : key) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        return h;
    }

    private static byte[] checkedKey(String key) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        if (k.length == 0 || k.length > MAX_KEY) {
            throw new IllegalArgumentException("key of " + k.length + " bytes (1 to " + MAX_KEY + ")");
        }
        return k;
    }
}
