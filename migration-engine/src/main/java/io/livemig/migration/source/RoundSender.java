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
import java.util.LinkedHashMap;
import java.util.function.LongConsumer;
import io.livemig.migration.observe.MigrationRecorder;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Sends one round's dirty pages the way QEMU's RDMA source does (spec sections 5.4 to 7):
 * <ol>
 *   <li>pages merge into writes that never cross a 1 MiB chunk ({@link WriteMerger});</li>
 *   <li>dynamic mode: a write to a chunk without a cached rkey is sent as COMPRESS when the whole range
 *       is zero, else its chunk is registered at the destination and the rkey cached for the rest of the
 *       migration; pin-all: every write uses the block's rkey, and no REGISTER or COMPRESS is sent;</li>
 *   <li>registrations are batched: the chunks that the next {@code registrationBatch} writes need go
 *       in one REGISTER REQUEST with {@code repeat} records, and the next batch's exchange overlaps the
 *       previous batch's writes. QEMU's source sends one chunk per request and waits for each result,
 *       which makes dynamic mode several times slower than pin-all. A QEMU destination answers a
 *       multi-record request with only the first result on the wire (spec section 3.2, its
 *       {@code len = 16} quirk); the sender then asks for the others one by one and sends single
 *       requests from then on. Batches are decided up to two ahead of the writes being posted, and a
 *       round's first batch is small ({@value #FIRST_BATCH} writes, then {@value #BATCH_GROWTH} times larger each
 *       time) so that its first write does not wait for a full batch's registration;</li>
 *   <li>each write first waits for {@code max-bandwidth} ({@link BandwidthLimiter});</li>
 *   <li>every write is a signalled RDMA WRITE; at most {@code maxOutstanding} are posted at once and at
 *       most one per chunk;</li>
 *   <li>the returned {@code Mono} completes only when every write of the round has completed (QEMU's
 *       drain), so the caller may then send REGISTER FINISHED.</li>
 * </ol>
 * Owns the local registrations it makes ({@link #close()} deregisters them). Control messages are
 * strictly sequential; writes overlap with them and with each other.
 */
public final class RoundSender implements AutoCloseable {

    /** Batches decided (and registered) ahead of the writes being posted. */
    private static final int REGISTER_AHEAD = 2;
    /** Writes in a round's first registration batch; each next one is {@value #BATCH_GROWTH} times larger. */
    static final int FIRST_BATCH = 32;
    /** How much each registration batch grows over the previous one, up to {@code registrationBatch}. */
    static final int BATCH_GROWTH = 4;

    /** Local registrations are only read by the HCA (the source's pages are the WRITE's source). */
    private static final Set<AccessFlag> LOCAL_ACCESS = EnumSet.noneOf(AccessFlag.class);

    private final RamBlocks blocks;
    private final SourceBlockTable table;
    private final SourceControl control;
    private final RdmaDataPath data;
    private final boolean pinAll;
    private final int maxOutstanding;
    private final List<RemoteKeyCache> remoteKeys = new ArrayList<>();
    /** Local chunk registrations: made where a write is prepared, dropped where a batch makes room (two threads). */
    private final Map<Long, MemoryRegion> localChunks = new java.util.concurrent.ConcurrentHashMap<>();
    /** Chunks registered at the destination, least recently written first (dynamic mode). */
    private final PinnedChunks pinned = new PinnedChunks();
    /** {@code max-pinned-bytes}, read at every batch: 0 for no limit. */
    private java.util.function.LongSupplier pinnedBudget = () -> 0;
    private final Map<Integer, MemoryRegion> localBlocks = new HashMap<>();
    private final BandwidthLimiter limiter;
    private final MigrationRecorder recorder;
    private final int registrationBatch;
    /** How long a posted write may take to complete before the link is taken for dead (null: no limit). */
    private java.time.Duration writeTimeout;
    private reactor.core.scheduler.Scheduler timer;
    /** False once the destination answered a multi-record REGISTER REQUEST with one result (QEMU). */
    private boolean batchedResults = true;
    /**
     * Writes posted whose work completion has not arrived, whoever still waits for them: a cancelled round
     * stops waiting at once, but the HCA may still read their memory until their completion (or flush).
     */
    private final Set<Mono<Void>> inFlight = java.util.concurrent.ConcurrentHashMap.newKeySet();

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
        this(blocks, table, control, data, pinAll, maxOutstanding,
                new BandwidthLimiter(() -> 0, reactor.core.scheduler.Schedulers.parallel()), MigrationRecorder.NOOP, 1);
    }

    /**
     * Creates a sender with a bandwidth cap and a metrics recorder.
     *
     * @param blocks the source's blocks, in wire order
     * @param table the destination's blocks, checked
     * @param control the source's control endpoint
     * @param data registration and RDMA WRITE
     * @param pinAll whether pin-all was negotiated
     * @param maxOutstanding most writes in flight (bounded by the send queue depth)
     * @param limiter {@code max-bandwidth}
     * @param recorder metrics
     * @param registrationBatch most writes whose chunks one REGISTER REQUEST registers
     */
    public RoundSender(RamBlocks blocks, SourceBlockTable table, SourceControl control, RdmaDataPath data,
            boolean pinAll, int maxOutstanding, BandwidthLimiter limiter, MigrationRecorder recorder,
            int registrationBatch) {
        if (maxOutstanding < 1) {
            throw new IllegalArgumentException("maxOutstanding must be positive: " + maxOutstanding);
        }
        this.blocks = blocks;
        this.table = table;
        this.control = control;
        this.data = data;
        this.pinAll = pinAll;
        this.maxOutstanding = maxOutstanding;
        this.limiter = limiter;
        this.recorder = recorder;
        this.registrationBatch = registrationBatch;
        for (RamBlock block : blocks) {
            remoteKeys.add(new RemoteKeyCache(block.usedLength()));
        }
    }

    /**
     * Bounds each write's completion: a write that has not completed after {@code timeout} fails the round
     * with an {@link IOException}. Over a link cut without a reset (no RST, no flush) nothing else would
     * end the wait; the bound is per write, not per round, because a round at a low max-bandwidth may
     * rightly take far longer than any one step.
     *
     * @param timeout the bound
     * @param timer its clock
     * @return this
     */
    public RoundSender writeTimeout(java.time.Duration timeout, reactor.core.scheduler.Scheduler timer) {
        this.writeTimeout = timeout;
        this.timer = timer;
        return this;
    }

    /**
     * Keeps at most {@code budget} bytes registered at the destination and locally (dynamic mode): before a batch
     * registers more, the least recently written chunks that no write needs are unregistered (UNREGISTER REQUEST,
     * then the local regions), and a batch is cut so that its chunks alone fit.
     *
     * @param budget {@code max-pinned-bytes}, read at every batch; 0 for no limit
     * @return this
     */
    public RoundSender pinnedBudget(java.util.function.LongSupplier budget) {
        this.pinnedBudget = budget;
        return this;
    }

    /**
     * The most bytes registered at the destination at once so far (dynamic mode).
     *
     * @return the high-water mark
     */
    public long pinnedHighWater() {
        return pinned.highWater();
    }

    /**
     * Pin-all: registers every local block whole (QEMU overlaps this with the destination's pinning).
     *
     * @throws IOException if a registration fails
     */
    public void registerAllBlocks() throws IOException {
        for (int i = 0; i < blocks.size(); i++) {
            if (!localBlocks.containsKey(i)) {
                long started = System.nanoTime();
                localBlocks.put(i, data.register(blocks.get(i).memory(), LOCAL_ACCESS));
                recorder.pinAllRegistration(MigrationRecorder.Side.SOURCE, blocks.get(i).usedLength(),
                        System.nanoTime() - started);
                recorder.pinnedBytes(MigrationRecorder.Side.SOURCE, blocks.get(i).usedLength());
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
        return send(dirty, bytes -> { });
    }

    /**
     * Sends a round, reporting each completed write. Cancelling the subscription stops it where it is: no
     * further write is posted, and the writes already posted stay tracked until their completion
     * ({@link #drained()}).
     *
     * @param dirty one snapshot per block, in block order
     * @param written told the length of each write once it completed
     * @return the round's statistics, once every write has completed
     */
    public Mono<RoundStats> send(List<DirtyPages> dirty, LongConsumer written) {
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
                .transform(this::batches)
                // Batches are decided (COMPRESS or WRITE, chunks registered) one at a time, up to
                // REGISTER_AHEAD batches ahead of the writes, so a registration round trip overlaps earlier writes.
                .concatMap(batch -> decide(batch, registrations), REGISTER_AHEAD)
                .concatMap(decided -> emit(decided, duplicatePages), 1)
                .concatMap(prepared -> limiter.acquire(prepared.write().length()).thenReturn(prepared), 1)
                .flatMap(prepared -> {
                    long key = chunkKey(prepared.write());
                    Mono<Void> previous = lastWriteToChunk.getOrDefault(key, Mono.empty());
                    // At most one write per chunk in flight: a second write to it waits for the first.
                    Mono<Void> post = previous.then(Mono.defer(() -> post(prepared)))
                            .doOnSuccess(v -> written.accept(prepared.write().length())).cache();
                    lastWriteToChunk.put(key, post);
                    normalPages.addAndGet(prepared.write().length() / RamBlock.PAGE_SIZE);
                    writes.incrementAndGet();
                    return post;
                }, maxOutstanding)
                .then(Mono.fromSupplier(() -> new RoundStats(normalPages.get(),
                        normalPages.get() * RamBlock.PAGE_SIZE, duplicatePages.get(), writes.get(),
                        registrations.get())));
    }

    /**
     * Cuts the round's writes into registration batches of 32, 128, then {@code registrationBatch} (512 by
     * default) writes. Nothing can be written before the first REGISTER RESULT, so the first request is small (a
     * freshly started destination took about 30 ms to answer 128 records on an idle connection). Each next request
     * queues behind the writes in flight, and its round trip (25 to 80 ms on loopback under load) is covered only by
     * a batch of about 128 writes or more: doubling from 8 waited at every step, about 50 ms in all at the start of
     * a round, 32-128-512 waits about 25 ms (two-process benchmark, 2 GiB, traced).
     */
    private Flux<List<ChunkWrite>> batches(Flux<ChunkWrite> writes) {
        return Flux.defer(() -> {
            int[] size = {Math.min(FIRST_BATCH, registrationBatch)};
            int[] filled = {0};
            return writes.bufferUntil(write -> {
                if (++filled[0] < Math.min(size[0], budgetBatch())) {
                    return false;
                }
                filled[0] = 0;
                size[0] = Math.min(registrationBatch, size[0] * BATCH_GROWTH);
                return true;
            });
        });
    }

    /**
     * The most writes one batch may hold under {@code max-pinned-bytes}: a quarter of the budget's chunks, so that
     * a batch's new chunks always fit beside those of the batches decided ahead and the writes in flight.
     */
    private int budgetBatch() {
        long budget = pinAll ? 0 : pinnedBudget.getAsLong();
        if (budget <= 0) {
            return Integer.MAX_VALUE;
        }
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, budget / Chunks.SIZE / 4));
    }

    /** A write ready to post: the local region and offset, and the remote key. */
    private record Prepared(ChunkWrite write, MemoryRegion local, long localOffset, int rkey) {
    }

    /** A batch whose chunks are registered, and which of its writes go as COMPRESS. */
    private record Decided(List<ChunkWrite> batch, Set<ChunkWrite> compressed) {
    }

    /**
     * Decides each write of a batch: pin-all and cached chunks go to WRITE; an unregistered all-zero range
     * goes as COMPRESS; the other unregistered chunks are registered, all in one request.
     */
    private Mono<Decided> decide(List<ChunkWrite> batch, AtomicLong registrations) {
        if (pinAll) {
            return Mono.just(new Decided(batch, Set.of()));
        }
        Map<Long, Needed> needed = new LinkedHashMap<>();
        Map<Long, Integer> newChunkWrites = new HashMap<>();
        Set<ChunkWrite> compressed = new java.util.HashSet<>();
        for (ChunkWrite write : batch) {
            long key = chunkKey(write);
            // Each write holds its chunk from here to its completion, so no batch decided meanwhile evicts it.
            if (needed.containsKey(key)) {
                newChunkWrites.merge(key, 1, Integer::sum);
                continue;
            }
            if (remoteKeys.get(write.blockIndex()).isRegistered(write.chunk())) {
                pinned.use(key);
                continue;
            }
            RamBlock block = blocks.get(write.blockIndex());
            if (ZeroRanges.isZero(block.memory().asSlice(write.offset(), write.length()))) {
                compressed.add(write);
            } else {
                needed.put(key, new Needed(write.blockIndex(), write.chunk(), new RegisterRequest(
                        table.wireAddress(write.blockIndex(), write.offset()), write.blockIndex(),
                        Chunks.chunksField(write.length()))));
                newChunkWrites.put(key, 1);
            }
        }
        long more = 0;
        for (Needed request : needed.values()) {
            more += chunkLength(request.index(), request.chunk());
        }
        return makeRoom(more)
                .then(register(new ArrayList<>(needed.values()), registrations, newChunkWrites))
                .thenReturn(new Decided(batch, compressed));
    }

    private long chunkLength(int index, long chunk) {
        return Chunks.end(0, blocks.get(index).usedLength(), chunk) - Chunks.start(0, chunk);
    }

    /**
     * Under {@code max-pinned-bytes}: unregisters the least recently written chunks no write holds until
     * {@code more} bytes fit, waiting for writes to complete when every chunk is held.
     */
    private Mono<Void> makeRoom(long more) {
        return Mono.defer(() -> {
            long budget = pinnedBudget.getAsLong();
            if (budget <= 0 || pinned.fits(more, budget)) {
                return Mono.empty();
            }
            // Taken before evicting: a write completing in between wakes the retry instead of being missed.
            Mono<Void> released = pinned.whenReleased();
            List<PinnedChunks.Chunk> victims = pinned.evictFor(more, budget);
            return unregister(victims).then(Mono.defer(() -> pinned.fits(more, budget) ? Mono.<Void>empty()
                    : released.then(makeRoom(more))));
        });
    }

    /**
     * UNREGISTER REQUEST for the chunks (key = chunk number, spec section 5.6), at most
     * {@value SourceOptions#MAX_REGISTRATION_BATCH} records a message; once UNREGISTER FINISHED is back the
     * destination has deregistered them, and the local regions and cached keys go too.
     */
    private Mono<Void> unregister(List<PinnedChunks.Chunk> victims) {
        if (victims.isEmpty()) {
            return Mono.empty();
        }
        List<List<PinnedChunks.Chunk>> messages = new ArrayList<>();
        for (int i = 0; i < victims.size(); i += SourceOptions.MAX_REGISTRATION_BATCH) {
            messages.add(victims.subList(i, Math.min(victims.size(), i + SourceOptions.MAX_REGISTRATION_BATCH)));
        }
        return Flux.fromIterable(messages).concatMap(part -> bounded(control.exchange(ControlMessage.unregisterRequest(
                        part.stream().map(c -> new RegisterRequest(c.chunk, c.blockIndex, 0)).toList())),
                "an UNREGISTER REQUEST")
                .doOnNext(ControlMessage::release)
                .doOnSuccess(finished -> {
                    long localBytes = 0;
                    int localCount = 0;
                    for (PinnedChunks.Chunk chunk : part) {
                        remoteKeys.get(chunk.blockIndex).remove(chunk.chunk);
                        MemoryRegion local = localChunks.remove(chunkKey(chunk.blockIndex, chunk.chunk));
                        if (local != null) {
                            localBytes += local.length();
                            localCount++;
                            local.deregister();
                        }
                    }
                    recorder.unregistered(MigrationRecorder.Side.SOURCE, localCount);
                    recorder.pinnedBytes(MigrationRecorder.Side.SOURCE, -localBytes);
                }), 1).then();
    }

    /** Sends a decided batch's COMPRESS messages and hands on its writes, in order. */
    private Flux<Prepared> emit(Decided decided, AtomicLong duplicatePages) {
        return Flux.fromIterable(decided.batch()).concatMap(write -> {
            if (decided.compressed().contains(write)) {
                duplicatePages.addAndGet(write.length() / RamBlock.PAGE_SIZE);
                recorder.compressed(MigrationRecorder.Side.SOURCE, write.length());
                return bounded(control.send(ControlMessage.compress(Compress.zero(write.blockIndex(),
                        table.wireAddress(write.blockIndex(), write.offset()), write.length()))), "a COMPRESS")
                        .then(Mono.empty());
            }
            return prepareRegistered(write);
        });
    }

    private Mono<Prepared> prepareRegistered(ChunkWrite write) {
        int index = write.blockIndex();
        if (pinAll) {
            MemoryRegion local = localBlocks.get(index);
            if (local == null) {
                return Mono.error(new IllegalStateException("pin-all: block '" + blocks.get(index).name()
                        + "' is not registered"));
            }
            return Mono.just(new Prepared(write, local, write.offset(), table.remote(index).remoteRkey()));
        }
        RemoteKeyCache keys = remoteKeys.get(index);
        long chunk = write.chunk();
        if (!keys.isRegistered(chunk)) {
            return Mono.error(new IllegalStateException("chunk " + chunk + " of block '" + blocks.get(index).name()
                    + "' has no remote key"));
        }
        recorder.remoteKeyCacheHit();
        return localChunk(index, chunk).map(local -> new Prepared(write, local,
                write.offset() - Chunks.start(0, chunk), keys.get(chunk)));
    }

    /**
     * Registers chunks at the destination: one request for all while the destination answers every
     * record, one request per chunk once it showed QEMU's single-result reply.
     */
    private Mono<Void> register(List<Needed> requests, AtomicLong registrations, Map<Long, Integer> writes) {
        if (requests.isEmpty()) {
            return Mono.empty();
        }
        if (!batchedResults && requests.size() > 1) {
            return Flux.fromIterable(requests).concatMap(r -> register(List.of(r), registrations, writes), 1).then();
        }
        long started = System.nanoTime();
        return bounded(control.exchange(ControlMessage.registerRequest(requests.stream().map(Needed::request)
                        .toList())), "a REGISTER REQUEST")
                .map(result -> {
                    try {
                        return List.copyOf(result.registerResults());
                    } finally {
                        result.release();
                    }
                })
                .flatMap(results -> {
                    recorder.registration(MigrationRecorder.Side.SOURCE, requests.size(), System.nanoTime() - started);
                    registrations.addAndGet(requests.size());
                    for (int i = 0; i < results.size() && i < requests.size(); i++) {
                        Needed request = requests.get(i);
                        remoteKeys.get(request.index()).put(request.chunk(), results.get(i).rkey());
                        long key = chunkKey(request.index(), request.chunk());
                        pinned.registered(key, request.index(), request.chunk(),
                                chunkLength(request.index(), request.chunk()));
                        for (int extra = writes.getOrDefault(key, 1); extra > 1; extra--) {
                            pinned.use(key);
                        }
                    }
                    if (results.size() >= requests.size()) {
                        return Mono.<Void>empty();
                    }
                    // QEMU's destination registered them all but put only the first result on the wire; its
                    // registration of an already registered chunk reuses the region, so asking again is safe.
                    batchedResults = false;
                    return register(requests.subList(results.size(), requests.size()), registrations, writes);
                });
    }

    /** Bounds a control step of the round by the write timeout, when one is set. */
    private <T> Mono<T> bounded(Mono<T> step, String what) {
        if (writeTimeout == null) {
            return step;
        }
        long millis = writeTimeout.toMillis();
        return step.timeout(writeTimeout, timer).onErrorMap(java.util.concurrent.TimeoutException.class,
                e -> new IOException(what + " was not answered within " + millis + " ms (the link or the destination"
                        + " is gone)", e));
    }

    /** A chunk to register: where it is, and its request record. */
    private record Needed(int index, long chunk, RegisterRequest request) {
    }

    private Mono<MemoryRegion> localChunk(int index, long chunk) {
        long key = chunkKey(index, chunk);
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
            recorder.pinnedBytes(MigrationRecorder.Side.SOURCE, end - start);
            return registered;
        });
    }

    private Mono<Void> post(Prepared prepared) {
        ChunkWrite write = prepared.write();
        return Mono.defer(() -> {
            long posted = System.nanoTime();
            recorder.rdmaWritePosted(write.length());
            // Subscribed here, not by the round: cancelling the round must not forget a write the HCA still
            // executes. The round waits on the cached result; drained() waits on every posted write.
            Mono<Void> written = data.write(prepared.local(), prepared.localOffset(), (int) write.length(),
                    table.targetAddress(write.blockIndex(), write.offset()), prepared.rkey(),
                    write.blockIndex() + write.chunk());
            if (writeTimeout != null) {
                long millis = writeTimeout.toMillis();
                written = written.timeout(writeTimeout, timer).onErrorMap(java.util.concurrent.TimeoutException.class,
                        e -> new IOException("an RDMA WRITE of " + write.length() + " bytes did not complete within "
                                + millis + " ms (the link or the destination is gone)", e));
            }
            Mono<Void> completion = written
                    .onErrorMap(WriteRefusedException.class, e -> new WriteRefusedException("an RDMA WRITE to block "
                            + write.blockIndex() + " ('" + blocks.get(write.blockIndex()).name() + "') at offset 0x"
                            + Long.toHexString(write.offset()) + ", " + write.length() + " bytes, was refused by the"
                            + " destination (remote access error)", e))
                    .doOnSuccess(v -> recorder.rdmaWriteCompleted(System.nanoTime() - posted))
                    .cache();
            inFlight.add(completion);
            long key = chunkKey(write);
            completion.doFinally(signal -> {
                inFlight.remove(completion);
                if (!pinAll) {
                    pinned.done(key);
                }
            }).subscribe(v -> { }, error -> { });
            return completion;
        });
    }

    /**
     * Completes once every write posted so far has its work completion (successful, failed, or flushed
     * because the connection closed), whether or not its round still waits for it. A cancelled migration
     * waits for this before it deregisters the memory the writes read.
     *
     * @return completes when no write is in flight; never fails
     */
    public Mono<Void> drained() {
        return Mono.whenDelayError(List.copyOf(inFlight)).onErrorResume(error -> Mono.empty());
    }

    /**
     * Writes posted and not yet completed.
     *
     * @return the count
     */
    public int writesInFlight() {
        return inFlight.size();
    }

    private static long chunkKey(ChunkWrite write) {
        return chunkKey(write.blockIndex(), write.chunk());
    }

    /** One key per chunk of every block: a block's chunk count fits in 34 bits (16 EiB of 1 MiB chunks). */
    private static long chunkKey(int blockIndex, long chunk) {
        return ((long) blockIndex << 34) | chunk;
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
        long pinned = 0;
        for (MemoryRegion region : localChunks.values()) {
            pinned += region.length();
        }
        for (MemoryRegion region : localBlocks.values()) {
            pinned += region.length();
        }
        if (pinned > 0) {
            recorder.unregistered(MigrationRecorder.Side.SOURCE, localChunks.size());
            recorder.pinnedBytes(MigrationRecorder.Side.SOURCE, -pinned);
        }
        localChunks.values().forEach(MemoryRegion::deregister);
        localBlocks.values().forEach(MemoryRegion::deregister);
        localChunks.clear();
        localBlocks.clear();
    }
}
