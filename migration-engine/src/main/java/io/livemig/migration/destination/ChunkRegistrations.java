package io.livemig.migration.destination;

import io.livemig.migration.protocol.Chunks;
import io.livemig.migration.protocol.ProtocolError;
import io.livemig.migration.protocol.ProtocolException;
import io.livemig.migration.protocol.RegisterRequest;
import io.livemig.migration.protocol.RegisterResult;
import io.livemig.migration.ram.RamBlock;
import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The destination's memory registrations (spec sections 5.4 to 5.6): one MR per chunk range a REGISTER
 * REQUEST names, reused when a later request starts at the same chunk (QEMU keeps them for the whole
 * migration), or one MR per whole block under pin-all. Owns every MR it made: {@link #close()}
 * deregisters them all.
 *
 * <p>Confined to the destination's registration loop.
 */
public final class ChunkRegistrations implements AutoCloseable {

    /** Registers memory with the connection's protection domain. */
    @FunctionalInterface
    public interface Registrar {
        /**
         * Registers {@code memory}.
         *
         * @param memory the range
         * @param access the access flags
         * @return the region
         * @throws IOException if registration fails
         */
        MemoryRegion register(MemorySegment memory, Set<AccessFlag> access) throws IOException;
    }

    /** What the source may do to registered destination memory: write it. */
    private static final Set<AccessFlag> ACCESS = EnumSet.of(AccessFlag.LOCAL_WRITE, AccessFlag.REMOTE_WRITE);

    private final DestinationBlockTable table;
    private final Registrar registrar;
    private final Map<Long, MemoryRegion> byChunk = new HashMap<>();
    private final Map<Integer, MemoryRegion> byBlock = new HashMap<>();
    private long pinnedBytes;
    private boolean closed;

    /**
     * Creates an empty set of registrations.
     *
     * @param table the block table the requests index
     * @param registrar registers memory
     */
    public ChunkRegistrations(DestinationBlockTable table, Registrar registrar) {
        this.table = table;
        this.registrar = registrar;
    }

    /**
     * Answers one REGISTER REQUEST record: registers its chunk range unless an MR starting at that chunk
     * exists, and returns the rkey with the block's base address.
     *
     * @param request the record (validated against the block table first)
     * @return the result record
     * @throws ProtocolException for a request outside the blocks
     * @throws IOException if registration fails
     */
    public RegisterResult register(RegisterRequest request) throws IOException {
        checkOpen();
        DestinationBlockTable.ChunkRange range = table.resolveRegister(request);
        long key = key(range.blockIndex(), range.firstChunk());
        MemoryRegion region = byChunk.get(key);
        if (region == null) {
            region = registerChecked(range.memory());
            byChunk.put(key, region);
        }
        return new RegisterResult(region.rkey(), range.block().address());
    }

    /**
     * Answers one UNREGISTER REQUEST record (key = chunk number): deregisters that chunk's MR if any.
     * Current QEMU never sends it (spec section 5.6); a livemig source does under {@code max-pinned-bytes}.
     *
     * @param request the record
     * @return the bytes that MR covered, 0 when the chunk had none
     */
    public long unregister(RegisterRequest request) {
        checkOpen();
        RamBlock block = table.get(checkIndex(request.currentIndex()));
        long chunks = Chunks.count(block.usedLength());
        if (request.key() < 0 || request.key() >= chunks) {
            // QEMU's destination indexes its MR array without a check here; livemig refuses instead.
            throw new ProtocolException(ProtocolError.INVALID_FIELD, "'unregister' chunk "
                    + Long.toUnsignedString(request.key()) + " outside the " + chunks + " chunks of block '"
                    + block.name() + "'");
        }
        MemoryRegion region = byChunk.remove(key(request.currentIndex(), request.key()));
        if (region == null) {
            return 0;
        }
        pinnedBytes -= region.length();
        region.deregister();
        return region.length();
    }

    /**
     * Pin-all: registers every block whole, for RAM BLOCKS RESULT.
     *
     * @throws IOException if a registration fails (those made so far stay owned by this object)
     */
    public void registerAllBlocks() throws IOException {
        registerAllBlocks((bytes, nanos) -> { });
    }

    /**
     * Registers every block whole (pin-all), reporting each block's registration.
     *
     * @param timed told each block's length and how long its registration took
     * @throws IOException if a registration fails
     */
    public void registerAllBlocks(BlockRegistered timed) throws IOException {
        checkOpen();
        for (int i = 0; i < table.size(); i++) {
            if (!byBlock.containsKey(i)) {
                long started = System.nanoTime();
                byBlock.put(i, registerChecked(table.get(i).memory()));
                timed.registered(table.get(i).memory().byteSize(), System.nanoTime() - started);
            }
        }
    }

    /** Told of one whole-block registration. */
    @FunctionalInterface
    public interface BlockRegistered {
        /**
         * One block registered.
         *
         * @param bytes its length
         * @param nanos how long it took
         */
        void registered(long bytes, long nanos);
    }

    /**
     * The rkey of a whole-block registration, or 0 in dynamic mode.
     *
     * @param block a block of the table
     * @return the key for {@code RemoteBlock.remoteRkey}
     */
    public int blockRkey(RamBlock block) {
        for (int i = 0; i < table.size(); i++) {
            if (table.get(i) == block) {
                MemoryRegion region = byBlock.get(i);
                return region == null ? 0 : region.rkey();
            }
        }
        throw new IllegalArgumentException("block " + block.name() + " is not in the table");
    }

    /**
     * Bytes registered (pinned) right now.
     *
     * @return the total length of live MRs
     */
    public long pinnedBytes() {
        return pinnedBytes;
    }

    /**
     * Chunk-range MRs made for REGISTER REQUESTs and still registered.
     *
     * @return the count
     */
    public int chunkRegistrations() {
        return byChunk.size();
    }

    /** Deregisters everything (idempotent). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (MemoryRegion region : byChunk.values()) {
            region.deregister();
        }
        for (MemoryRegion region : byBlock.values()) {
            region.deregister();
        }
        byChunk.clear();
        byBlock.clear();
        pinnedBytes = 0;
    }

    private MemoryRegion registerChecked(MemorySegment memory) throws IOException {
        MemoryRegion region = registrar.register(memory, ACCESS);
        if (region.rkey() == 0) {
            // A QEMU source reads rkey 0 as "not registered" and would ask again forever.
            region.deregister();
            throw new ProtocolException(ProtocolError.INVALID_FIELD,
                    "the provider returned rkey 0, which the protocol reserves for 'unregistered'");
        }
        pinnedBytes += region.length();
        return region;
    }

    private int checkIndex(int index) {
        if (index < 0 || index >= table.size()) {
            throw new ProtocolException(ProtocolError.INVALID_FIELD, "'unregister' bad block index "
                    + Integer.toUnsignedString(index) + " (vs " + table.size() + ")");
        }
        return index;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("registrations are closed");
        }
    }

    private static long key(int blockIndex, long chunk) {
        return ((long) blockIndex << 34) | chunk;
    }
}
