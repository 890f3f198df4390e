package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.verbs.SendOpcode;
import io.livemig.transport.rdma.verbs.SendWorkRequest;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A posted send work request with everything resolved at post time: its PSN, the gather list for SEND and WRITE
 * (or the captured inline bytes), and for READ the local regions and slices the response is scattered into.
 *
 * @param request the work request as posted
 * @param psn the packet sequence number it is transmitted with
 * @param gather the outbound payload ({@link Gather#EMPTY} for READ)
 * @param readTargets for READ: where the response goes, in order
 * @param readRegions for READ: the region of each target, pinned while placing
 */
record SendQueueEntry(SendWorkRequest request, long psn, Gather gather, List<MemorySegment> readTargets,
                      List<SoftMemoryRegion> readRegions) {

    boolean isRead() {
        return request.opcode() == SendOpcode.RDMA_READ;
    }

    Frame.RcRequest frame() {
        return new Frame.RcRequest(request.opcode(), psn, request.remoteAddress(), request.rkey(),
                (int) request.totalLength(), request.immediateData());
    }
}
