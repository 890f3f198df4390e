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
import reactor.core.publisher.Mono;

/**
 * The source's data path over a migration's channels ({@code multifd}): each WRITE goes out on the queue pair its
 * stripe (the chunk index) picks, modulo the channel count, so one chunk's writes stay on one queue pair and the
 * chunks of a round spread over all.
 *
 * <p>Local memory is registered on every channel: each source channel has a protection domain of its own (a client
 * channel opens its own device context), and an lkey is only valid in its domain. That costs one registration per
 * channel (with a real adapter, pinning the pages once more per domain; the pages are the same). The destination
 * side needs no such thing: its extra channels share the first one's protection domain, so the rkeys of its
 * REGISTER RESULTs and block list are valid on every channel.
 *
 * <p>Draining needs nothing extra here: every write's completion is awaited by the round (and by
 * {@code RoundSender.drained()}) whichever channel carried it, so REGISTER FINISHED and the final round's
 * completion follow only after the writes on all channels completed.
 */
final class StripedDataPath implements RdmaDataPath {

    private final List<RdmaChannelDataPath> paths = new ArrayList<>();

    /**
     * @param channels the connected channels, the control channel first
     */
    StripedDataPath(List<RdmaChannel> channels) {
        for (RdmaChannel channel : channels) {
            paths.add(new RdmaChannelDataPath(channel));
        }
    }

    /** Registers on every channel, all or nothing; the returned region deregisters them all. */
    @Override
    public MemoryRegion register(MemorySegment memory, Set<AccessFlag> access) throws IOException {
        List<MemoryRegion> regions = new ArrayList<>(paths.size());
        boolean success = false;
        try {
            for (RdmaChannelDataPath path : paths) {
                regions.add(path.register(memory, access));
            }
            success = true;
            return new StripedRegion(List.copyOf(regions));
        } finally {
            if (!success) {
                regions.forEach(MemoryRegion::deregister);
            }
        }
    }

    @Override
    public Mono<Void> write(MemoryRegion local, long offset, int length, long remoteAddress, int rkey) {
        return write(local, offset, length, remoteAddress, rkey, 0);
    }

    @Override
    public Mono<Void> write(MemoryRegion local, long offset, int length, long remoteAddress, int rkey, long stripe) {
        if (local instanceof StripedRegion striped) {
            int lane = (int) Math.floorMod(stripe, (long) paths.size());
            return paths.get(lane).write(striped.regions.get(lane), offset, length, remoteAddress, rkey);
        }
        // A region registered on the control channel alone is only valid there.
        return paths.get(0).write(local, offset, length, remoteAddress, rkey);
    }

    /** One registration per channel of the same memory; seen by the engine as the first (control channel's). */
    private record StripedRegion(List<MemoryRegion> regions) implements MemoryRegion {

        @Override
        public long address() {
            return regions.getFirst().address();
        }

        @Override
        public long length() {
            return regions.getFirst().length();
        }

        @Override
        public int lkey() {
            return regions.getFirst().lkey();
        }

        @Override
        public int rkey() {
            return regions.getFirst().rkey();
        }

        @Override
        public Set<AccessFlag> access() {
            return regions.getFirst().access();
        }

        @Override
        public MemorySegment segment() {
            return regions.getFirst().segment();
        }

        @Override
        public boolean isRegistered() {
            return regions.stream().allMatch(MemoryRegion::isRegistered);
        }

        @Override
        public void deregister() {
            regions.forEach(MemoryRegion::deregister);
        }
    }
}
