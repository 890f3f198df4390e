package io.livemig.transport.rdma.verbs;

import java.util.List;

/**
 * A receive work request ({@code struct ibv_recv_wr}): a scatter list for the payload of one incoming SEND.
 *
 * @param wrId the id reported in the completion
 * @param sges the scatter list; may be empty for receives that only take immediate data
 */
public record ReceiveWorkRequest(long wrId, List<ScatterGatherElement> sges) {

    /** Copies the list. */
    public ReceiveWorkRequest {
        sges = List.copyOf(sges);
    }

    /**
     * A receive with one element.
     *
     * @param wrId the id
     * @param sge the element
     * @return the request
     */
    public static ReceiveWorkRequest of(long wrId, ScatterGatherElement sge) {
        return new ReceiveWorkRequest(wrId, List.of(sge));
    }

    /**
     * The capacity of the scatter list.
     *
     * @return the sum of the SGE lengths
     */
    public long totalLength() {
        long total = 0;
        for (ScatterGatherElement sge : sges) {
            total += sge.unsignedLength();
        }
        return total;
    }
}
