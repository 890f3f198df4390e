package io.livemig.migration.testing;

import io.livemig.migration.source.RdmaDataPath;
import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * A data path with RC's placement rules for protocol-level tests: a WRITE lands only inside a live
 * destination region named by its rkey, within bounds, and completes asynchronously a moment later.
 * Tracks concurrency for the flow-control checks. (End-to-end tests over the soft provider's fabrics
 * use the real RDMA channel instead.)
 */
public final class PlacingDataPath implements RdmaDataPath {
    private final Map<Integer, TestRegion> remote = new ConcurrentHashMap<>();
    private final Map<Long, Boolean> chunksInFlight = new ConcurrentHashMap<>();
    private final AtomicInteger nextKey = new AtomicInteger(0x100);
    public final AtomicInteger inFlight = new AtomicInteger();
    /** Writes posted so far. */
    public final AtomicInteger posted = new AtomicInteger();
    public final AtomicInteger maxInFlight = new AtomicInteger();
    public final AtomicInteger chunkOverlap = new AtomicInteger();
    /** When set, the next write placed has its first byte inverted (then this clears). */
    public final java.util.concurrent.atomic.AtomicBoolean corruptNextWrite = new java.util.concurrent.atomic.AtomicBoolean();

    /** Registers destination memory; the returned region's rkey names it for writes. */
    public MemoryRegion registerRemote(MemorySegment memory, Set<AccessFlag> access) {
        TestRegion region = new TestRegion(memory, nextKey.getAndIncrement());
        remote.put(region.rkey(), region);
        return region;
    }

    @Override
    public MemoryRegion register(MemorySegment memory, Set<AccessFlag> access) {
        return new TestRegion(memory, nextKey.getAndIncrement());
    }

    @Override
    public Mono<Void> write(MemoryRegion local, long offset, int length, long remoteAddress, int rkey) {
        return Mono.defer(() -> {
            TestRegion target = remote.get(rkey);
            // Regions start at a block (pin-all) or at a chunk (dynamic): this names the block's chunk.
            long chunk = target == null ? -1
                    : ((long) rkey << 32) | ((remoteAddress - target.address()) >>> 20);
            posted.incrementAndGet();
            int now = inFlight.incrementAndGet();
            maxInFlight.accumulateAndGet(now, Math::max);
            if (chunksInFlight.putIfAbsent(chunk, true) != null) {
                chunkOverlap.incrementAndGet();
            }
            // The write "travels" for a millisecond, so that overlapping writes would be seen overlapping.
            return Mono.delay(Duration.ofMillis(1), Schedulers.parallel())
                    .doOnNext(tick -> {
                        if (target == null || !target.registered || remoteAddress < target.address()
                                || remoteAddress + length > target.address() + target.length()) {
                            // As RC does: a remote access error, which the data path contract names.
                            throw reactor.core.Exceptions.propagate(new io.livemig.migration.source
                                    .WriteRefusedException("REM_ACCESS_ERR: rkey 0x" + Integer.toHexString(rkey),
                                            null));
                        }
                        MemorySegment.copy(local.segment(), offset, target.segment(),
                                remoteAddress - target.address(), length);
                        if (corruptNextWrite.compareAndSet(true, false)) {
                            long at = remoteAddress - target.address();
                            byte b = target.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, at);
                            target.segment().set(java.lang.foreign.ValueLayout.JAVA_BYTE, at, (byte) ~b);
                        }
                    })
                    // Before the completion travels on, as a work completion ends the WRITE's life.
                    .doOnTerminate(() -> {
                        chunksInFlight.remove(chunk);
                        inFlight.decrementAndGet();
                    })
                    .then();
        });
    }
}
