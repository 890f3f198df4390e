package io.livemig.transport.rdma.verbs.soft;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * The outbound payload of a frame: slices of registered memory read by the fabric when it transmits, plus the
 * regions that must stay registered while it does. Pinning happens at transmit time, not at post time, because the
 * owner of a region may deregister it while the work request waits in the send queue.
 *
 * @param segments the bytes, in order
 * @param regions the regions the segments belong to ({@code null} entries for inline copies)
 * @param onPinFailure run (instead of transmitting) when a region was deregistered before transmission
 */
record Gather(List<MemorySegment> segments, List<SoftMemoryRegion> regions, Runnable onPinFailure) {

    static final Gather EMPTY = new Gather(List.of(), List.of(), () -> { });

    /**
     * Pins every region.
     *
     * @return {@code true} when all are registered; the caller must then {@link #unpin()}
     */
    boolean pin() {
        for (int i = 0; i < regions.size(); i++) {
            SoftMemoryRegion region = regions.get(i);
            if (region != null && !region.pin()) {
                for (int j = 0; j < i; j++) {
                    if (regions.get(j) != null) {
                        regions.get(j).unpin();
                    }
                }
                return false;
            }
        }
        return true;
    }

    void unpin() {
        for (SoftMemoryRegion region : regions) {
            if (region != null) {
                region.unpin();
            }
        }
    }
}
