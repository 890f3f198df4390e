package io.livemig.migration.connection;

import io.livemig.migration.source.RdmaDataPath;
import io.livemig.transport.rdma.channel.RdmaChannel;
import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.LongConsumer;
import reactor.core.publisher.Mono;

/**
 * The source's data path over a migration's channels ({@code multifd}): each WRITE goes out on the queue pair its
 * stripe (the chunk index) picks, modulo the number of channels connected so far, so one chunk's writes stay on one
 * queue pair while the channel count holds and the chunks of a round spread over all.
 *
 * <p><b>Channels join as they connect.</b> The path starts with the control channel alone and the extra channels
 * {@linkplain #join join} when their connects complete, while the migration already runs: a small migration is not
 * held up by connects it has no use for (each costs a CM exchange and a queue pair), and a large one stripes over
 * every channel a few milliseconds in. Nothing depends on which queue pair carried a write: the round awaits every
 * write's completion, whichever channel carried it, before REGISTER FINISHED, so the destination sees a round's pages
 * only once all of them landed. An extra channel that fails to connect {@linkplain #fail fails} every later write
 * with the connect's cause: the migration fails, as QEMU's does when a multifd channel cannot be set up, and the
 * source keeps its memory.
 *
 * <p>Local memory is registered per channel: each source channel has a protection domain of its own (a client
 * channel opens its own device context), and an lkey is only valid in its domain. A region is registered at once on
 * every channel joined when it is registered (so registration errors surface where the engine registers), and on a
 * channel that joins later at that channel's first write from it. That costs one registration per channel (with a
 * real adapter, pinning the pages once more per domain; the pages are the same). The destination side needs no such
 * thing: its extra channels share the first one's protection domain, so the rkeys of its REGISTER RESULTs and block
 * list are valid on every channel.
 */
final class StripedDataPath implements RdmaDataPath {

    /** The joined channels' paths, the control channel's first; replaced whole on a join (read on every write). */
    private volatile List<RdmaChannelDataPath> lanes;
    /** Why an extra channel could not join; fails every write from then on. */
    private volatile Throwable failure;
    /** Told the length of each WRITE that completed on an extra channel ({@code multifd-bytes}). */
    private volatile LongConsumer extraChannelBytes = bytes -> { };

    /**
     * @param control the control channel, the first lane; the others {@link #join} later
     */
    StripedDataPath(RdmaChannel control) {
        this.lanes = List.of(new RdmaChannelDataPath(control));
    }

    /** Adds a connected extra channel: writes stripe over it from now on. */
    synchronized void join(RdmaChannel extra) {
        List<RdmaChannelDataPath> more = new ArrayList<>(lanes);
        more.add(new RdmaChannelDataPath(extra));
        lanes = List.copyOf(more);
    }

    /**
     * Where the lengths of the WRITEs completed on the extra channels go (QEMU's {@code multifd-bytes}).
     *
     * @param consumer told each completed WRITE's length, from the thread that completed it
     */
    void onExtraChannelBytes(LongConsumer consumer) {
        extraChannelBytes = java.util.Objects.requireNonNull(consumer, "consumer");
    }

    /** An extra channel could not connect: every later write fails with {@code cause}. */
    void fail(Throwable cause) {
        failure = cause;
    }

    /**
     * The channels writes stripe over now.
     *
     * @return 1 until an extra channel joined
     */
    int laneCount() {
        return lanes.size();
    }

    /**
     * How many channels a region from {@link #register} is registered on now (for tests).
     *
     * @param region a region this path registered
     * @return 0 after its deregistration
     */
    static int registrations(MemoryRegion region) {
        return ((StripedRegion) region).registrations();
    }

    /** Registers on every joined channel, all or nothing; the returned region deregisters them all. */
    @Override
    public MemoryRegion register(MemorySegment memory, Set<AccessFlag> access) throws IOException {
        List<RdmaChannelDataPath> now = lanes;
        StripedRegion region = new StripedRegion(memory, access);
        try {
            for (int lane = 0; lane < now.size(); lane++) {
                region.on(lane, now.get(lane));
            }
            return region;
        } catch (IOException | RuntimeException e) {
            region.deregister();
            throw e;
        }
    }

    /** Every channel of a migration opens the same provider's devices: the control channel answers for all. */
    @Override
    public boolean pinsMemory() {
        return lanes.getFirst().pinsMemory();
    }

    @Override
    public Mono<Void> write(MemoryRegion local, long offset, int length, long remoteAddress, int rkey) {
        return write(local, offset, length, remoteAddress, rkey, 0);
    }

    @Override
    public Mono<Void> write(MemoryRegion local, long offset, int length, long remoteAddress, int rkey, long stripe) {
        Throwable failed = failure;
        if (failed != null) {
            return Mono.error(failed);
        }
        List<RdmaChannelDataPath> now = lanes;
        if (local instanceof StripedRegion striped) {
            int lane = (int) Math.floorMod(stripe, (long) now.size());
            RdmaChannelDataPath path = now.get(lane);
            MemoryRegion onLane;
            try {
                onLane = striped.on(lane, path);
            } catch (IOException | RuntimeException e) {
                return Mono.error(e);
            }
            Mono<Void> written = path.write(onLane, offset, length, remoteAddress, rkey);
            return lane == 0 ? written : written.doOnSuccess(done -> extraChannelBytes.accept(length));
        }
        // A region registered on the control channel alone is only valid there.
        return now.getFirst().write(local, offset, length, remoteAddress, rkey);
    }

    /**
     * One memory, registered once per channel that used it (lane {@code i} at index {@code i}); seen by the engine
     * through the control channel's registration.
     */
    private static final class StripedRegion implements MemoryRegion {

        private final MemorySegment memory;
        private final Set<AccessFlag> access;
        private final List<MemoryRegion> regions = new ArrayList<>();
        private MemoryRegion control;
        private boolean deregistered;

        StripedRegion(MemorySegment memory, Set<AccessFlag> access) {
            this.memory = memory;
            this.access = Set.copyOf(access);
        }

        /** The registration on {@code lane}, made now if this is the lane's first use of the memory. */
        synchronized MemoryRegion on(int lane, RdmaChannelDataPath path) throws IOException {
            if (deregistered) {
                throw new IllegalStateException("the memory region was deregistered");
            }
            while (regions.size() <= lane) {
                regions.add(null);
            }
            MemoryRegion region = regions.get(lane);
            if (region == null) {
                region = path.register(memory, access);
                regions.set(lane, region);
                if (lane == 0) {
                    control = region;
                }
            }
            return region;
        }

        synchronized int registrations() {
            return (int) regions.stream().filter(java.util.Objects::nonNull).count();
        }

        private synchronized MemoryRegion control() {
            if (control == null) {
                throw new IllegalStateException("the memory region was deregistered");
            }
            return control;
        }

        @Override
        public long address() {
            return memory.address();
        }

        @Override
        public long length() {
            return memory.byteSize();
        }

        @Override
        public int lkey() {
            return control().lkey();
        }

        @Override
        public int rkey() {
            return control().rkey();
        }

        @Override
        public Set<AccessFlag> access() {
            return access;
        }

        @Override
        public MemorySegment segment() {
            return memory;
        }

        @Override
        public synchronized boolean isRegistered() {
            return !deregistered && regions.stream().allMatch(r -> r == null || r.isRegistered());
        }

        @Override
        public synchronized void deregister() {
            if (deregistered) {
                return;
            }
            deregistered = true;
            for (MemoryRegion region : regions) {
                if (region != null) {
                    region.deregister();
                }
            }
            regions.clear();
            control = null;
        }
    }
}
