package io.livemig.migration.source;

import io.livemig.migration.control.SourceControl;
import io.livemig.migration.protocol.Chunks;
import io.livemig.migration.protocol.Compress;
import io.livemig.migration.protocol.ControlMessage;
import io.livemig.migration.protocol.RegisterRequest;
import io.livemig.migration.ram.DirtyPages;
import io.livemig.migration.ram.RamBlock;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Sends one round's dirty pages the way QEMU's RDMA source does (spec sections 5.4 to 7):
 * <ol>
 *   <li>pages merge into writes that never cross a 1 MiB chunk ({@link WriteMerger});</li>
 *   <li>dynamic mode: a write to a chunk without a cached rkey is sent as COMPRESS when the whole range
 *       is zero, else preceded by a REGISTER REQUEST/RESULT exchange whose rkey is cached for the rest of
 *       the migration; pin-all: every write uses the block's rkey, and no REGISTER or COMPRESS is sent;</li>
 *   <li>every write is a signalled RDMA WRITE; at most {@code maxOutstanding} are posted at once and at
 *       most one per chunk;</li>
 *   <li>the returned {@code Mono} completes only when every write of the round has completed (QEMU's
 *       drain), so the caller may then send REGISTER FINISHED.</li>
 * </ol>
 * Owns the local registrations it makes ({@link #close()} deregisters them). Control messages are
 * strictly sequential; writes overlap with them and with each other.
 */
public final class RoundSender implements AutoCloseable {

    /** Local registrations are only read by the HCA (the source's pages are the WRITE's source). */
    private static final Set<AccessFlag> LOCAL_ACCESS = EnumSet.noneOf(AccessFlag.class);

    private final RamBlocks blocks;
    private final SourceBlockTable table;
    private final SourceControl control;
    private final RdmaDataPath data;
    private final boolean pinAll;
    private final int maxOutstanding;
    private final List<RemoteKeyCache> remoteKeys = new ArrayList<>();
    private final Map<Long, MemoryRegion> localChunks = new HashMap<>();
    private final Map<Integer, MemoryRegion> localBlocks = new HashMap<>();

    /**
     * Creates a sender.
     *
     * @param blocks the source's blocks, in wire order
     * @param table the destination's blocks, checked
     * @param control the source's control endpoint
     * @param data registration and RDMA WRITE
     * @param pinAll whether pin-all was negotiated
     * @param maxOutstanding most writes in flight (bounded by the send queue depth)
     */
    public RoundSender(RamBlocks blocks, SourceBlockTable table, SourceControl control, RdmaDataPath data,
            boolean pinAll, int maxOutstanding) {
        if (maxOutstanding < 1) {
            throw new IllegalArgumentException("maxOutstanding must be positive: " + maxOutstanding);
        }
        this.blocks = blocks;
        this.table = table;
        this.control = control;
        this.data = data;
        this.pinAll = pinAll;
        this.maxOutstanding = maxOutstanding;
        for (RamBlock block : blocks) {
            remoteKeys.add(new RemoteKeyCache(block.usedLength()));
        }
    }

    /**
     * Pin-all: registers every local block whole (QEMU overlaps this with the destination's pinning).
     *
     * @throws IOException if a registration fails
     */
    public void registerAllBlocks() throws IOException {
        for (int i = 0; i < blocks.size(); i++) {
            if (!localBlocks.containsKey(i)) {
                localBlocks.put(i, data.register(blocks.get(i).memory(), LOCAL_ACCESS));
            }
        }
    }

    /**
     * Sends a round.
     *
     * @param dirty one snapshot per block, in block order
     * @return the round's statistics, once every write has completed
     */
    public Mono<RoundStats> send(List<DirtyPages> dirty) {
        if (dirty.size() != blocks.size()) {
            return Mono.error(new IllegalArgumentException(dirty.size() + " dirty sets for " + blocks.size()
                    + " blocks"));
        }
        AtomicLong normalPages = new AtomicLong();
        AtomicLong duplicatePages = new AtomicLong();
        AtomicLong writes = new AtomicLong();
        AtomicLong registrations = new AtomicLong();
        Map<Long, Mono<Void>> lastWriteToChunk = new HashMap<>();
        return Flux.range(0, blocks.size())
                .concatMapIterable(index -> {
                    List<ChunkWrite> list = new ArrayList<>();
                    WriteMerger.forEachWrite(index, dirty.get(index), list::add);
                    return list;
                })
                // Control traffic is sequential: one write at a time decides COMPRESS / REGISTER / WRITE.
                .concatMap(write -> prepare(write, duplicatePages, registrations))
                .flatMap(prepared -> {
                    long key = chunkKey(prepared.write());
                    Mono<Void> previous = lastWriteToChunk.getOrDefault(key, Mono.empty());
                    // At most one write per chunk in flight: a second write to it waits for the first.
                    Mono<Void> post = previous.then(Mono.defer(() -> post(prepared))).cache();
                    lastWriteToChunk.put(key, post);
                    normalPages.addAndGet(prepared.write().length() / RamBlock.PAGE_SIZE);
                    writes.incrementAndGet();
                    return post;
                }, maxOutstanding)
                .then(Mono.fromSupplier(() -> new RoundStats(normalPages.get(),
                        normalPages.get() * RamBlock.PAGE_SIZE, duplicatePages.get(), writes.get(),
                        registrations.get())));
    }

    /** A write ready to post: the local region and offset, and the remote key. */
    private record Prepared(ChunkWrite write, MemoryRegion local, long localOffset, int rkey) {
    }

    private Mono<Prepared> prepare(ChunkWrite write, AtomicLong duplicatePages, AtomicLong registrations) {
        int index = write.blockIndex();
        RamBlock block = blocks.get(index);
        if (pinAll) {
            MemoryRegion local = localBlocks.get(index);
            if (local == null) {
                return Mono.error(new IllegalStateException("pin-all: block '" + block.name() + "' is not registered"));
            }
            return Mono.just(new Prepared(write, local, write.offset(), table.remote(index).remoteRkey()));
        }
        RemoteKeyCache keys = remoteKeys.get(index);
        long chunk = write.chunk();
        if (keys.isRegistered(chunk)) {
            return localChunk(index, chunk).map(local -> new Prepared(write, local,
                    write.offset() - Chunks.start(0, chunk), keys.get(chunk)));
        }
        if (ZeroRanges.isZero(block.memory().asSlice(write.offset(), write.length()))) {
            duplicatePages.addAndGet(write.length() / RamBlock.PAGE_SIZE);
            return control.send(ControlMessage.compress(Compress.zero(index, table.wireAddress(index, write.offset()),
                    write.length()))).then(Mono.empty());
        }
        RegisterRequest request = new RegisterRequest(table.wireAddress(index, write.offset()), index,
                Chunks.chunksField(write.length()));
        return control.exchange(ControlMessage.registerRequest(List.of(request)))
                .map(result -> {
                    try {
                        return result.registerResults().getFirst();
                    } finally {
                        result.release();
                    }
                })
                .flatMap(result -> {
                    registrations.incrementAndGet();
                    keys.put(chunk, result.rkey());
                    return localChunk(index, chunk).map(local -> new Prepared(write, local,
                            write.offset() - Chunks.start(0, chunk), result.rkey()));
                });
    }

    private Mono<MemoryRegion> localChunk(int index, long chunk) {
        long key = ((long) index << 34) | chunk;
        MemoryRegion region = localChunks.get(key);
        if (region != null) {
            return Mono.just(region);
        }
        RamBlock block = blocks.get(index);
        long start = Chunks.start(0, chunk);
        long end = Chunks.end(0, block.usedLength(), chunk);
        return Mono.fromCallable(() -> {
            MemoryRegion registered = data.register(block.memory().asSlice(start, end - start), LOCAL_ACCESS);
            localChunks.put(key, registered);
            return registered;
        });
    }

    private Mono<Void> post(Prepared prepared) {
        ChunkWrite write = prepared.write();
        return data.write(prepared.local(), prepared.localOffset(), (int) write.length(),
                table.targetAddress(write.blockIndex(), write.offset()), prepared.rkey());
    }

    private static long chunkKey(ChunkWrite write) {
        return ((long) write.blockIndex() << 34) | write.chunk();
    }

    /**
     * Chunks of a block with a cached rkey (dynamic mode).
     *
     * @param index block index
     * @return the count
     */
    public int registeredChunks(int index) {
        return remoteKeys.get(index).registeredChunks();
    }

    /** Deregisters every local registration (idempotent). */
    @Override
    public void close() {
        localChunks.values().forEach(MemoryRegion::deregister);
        localBlocks.values().forEach(MemoryRegion::deregister);
        localChunks.clear();
        localBlocks.clear();
    }
}
