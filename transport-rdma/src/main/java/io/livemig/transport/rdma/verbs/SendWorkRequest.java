package io.livemig.transport.rdma.verbs;

import java.util.List;
import java.util.Objects;

/**
 * A send work request ({@code struct ibv_send_wr}), immutable. Build one with a factory and refine it with the
 * {@code with...} methods:
 * {@snippet :
 * SendWorkRequest write = SendWorkRequest.rdmaWrite(7, List.of(sge), remoteAddress, rkey).unsignaled();
 * }
 *
 * @param wrId the id reported in the completion
 * @param opcode the operation
 * @param sges the gather list (for READ: the scatter list the response is placed into)
 * @param signaled {@code IBV_SEND_SIGNALED}: generate a completion on success
 * @param inline {@code IBV_SEND_INLINE}: the provider copies the payload at post time, so the buffers (and their
 *        lkeys) need not stay valid; the total must not exceed the queue pair's {@code maxInlineData}
 * @param immediateData the immediate data for the {@code _WITH_IMM} opcodes, host order
 * @param remoteAddress the remote address for RDMA operations
 * @param rkey the remote key for RDMA operations
 */
public record SendWorkRequest(long wrId, SendOpcode opcode, List<ScatterGatherElement> sges, boolean signaled,
                              boolean inline, int immediateData, long remoteAddress, int rkey) {

    /**
     * Validates and copies the request.
     *
     * @throws NullPointerException when the opcode or SGE list is missing
     */
    public SendWorkRequest {
        Objects.requireNonNull(opcode, "opcode");
        sges = List.copyOf(sges);
    }

    /**
     * A signaled SEND.
     *
     * @param wrId the id
     * @param sges the gather list
     * @return the request
     */
    public static SendWorkRequest send(long wrId, List<ScatterGatherElement> sges) {
        return new SendWorkRequest(wrId, SendOpcode.SEND, sges, true, false, 0, 0, 0);
    }

    /**
     * A signaled SEND_WITH_IMM.
     *
     * @param wrId the id
     * @param sges the gather list
     * @param immediateData the immediate data
     * @return the request
     */
    public static SendWorkRequest sendWithImmediate(long wrId, List<ScatterGatherElement> sges, int immediateData) {
        return new SendWorkRequest(wrId, SendOpcode.SEND_WITH_IMM, sges, true, false, immediateData, 0, 0);
    }

    /**
     * A signaled RDMA_WRITE.
     *
     * @param wrId the id
     * @param sges the gather list
     * @param remoteAddress where to place the bytes
     * @param rkey the remote region's key
     * @return the request
     */
    public static SendWorkRequest rdmaWrite(long wrId, List<ScatterGatherElement> sges, long remoteAddress,
                                            int rkey) {
        return new SendWorkRequest(wrId, SendOpcode.RDMA_WRITE, sges, true, false, 0, remoteAddress, rkey);
    }

    /**
     * A signaled RDMA_WRITE_WITH_IMM.
     *
     * @param wrId the id
     * @param sges the gather list
     * @param remoteAddress where to place the bytes
     * @param rkey the remote region's key
     * @param immediateData the immediate data delivered in the peer's receive completion
     * @return the request
     */
    public static SendWorkRequest rdmaWriteWithImmediate(long wrId, List<ScatterGatherElement> sges,
                                                         long remoteAddress, int rkey, int immediateData) {
        return new SendWorkRequest(wrId, SendOpcode.RDMA_WRITE_WITH_IMM, sges, true, false, immediateData,
                remoteAddress, rkey);
    }

    /**
     * A signaled RDMA_READ.
     *
     * @param wrId the id
     * @param sges the scatter list the remote bytes are placed into
     * @param remoteAddress where to read
     * @param rkey the remote region's key
     * @return the request
     */
    public static SendWorkRequest rdmaRead(long wrId, List<ScatterGatherElement> sges, long remoteAddress,
                                           int rkey) {
        return new SendWorkRequest(wrId, SendOpcode.RDMA_READ, sges, true, false, 0, remoteAddress, rkey);
    }

    /**
     * This request without {@code IBV_SEND_SIGNALED}.
     *
     * @return a copy that completes silently on success
     */
    public SendWorkRequest unsignaled() {
        return new SendWorkRequest(wrId, opcode, sges, false, inline, immediateData, remoteAddress, rkey);
    }

    /**
     * This request with {@code IBV_SEND_INLINE}.
     *
     * @return a copy whose payload is captured at post time
     */
    public SendWorkRequest inlined() {
        return new SendWorkRequest(wrId, opcode, sges, signaled, true, immediateData, remoteAddress, rkey);
    }

    /**
     * The total payload length.
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
