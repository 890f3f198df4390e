package io.livemig.transport.rdma.verbs.conformance;

import io.livemig.transport.rdma.verbs.WcOpcode;
import io.livemig.transport.rdma.verbs.WcStatus;
import io.livemig.transport.rdma.verbs.WorkCompletion;

/**
 * An immutable copy of a {@link WorkCompletion}, for assertions.
 *
 * @param wrId the work request id
 * @param status the status
 * @param opcode the opcode (meaningful on success only)
 * @param byteLength the byte length
 * @param immediateData the immediate data
 * @param hasImmediate whether immediate data is present
 */
public record Wc(long wrId, WcStatus status, WcOpcode opcode, int byteLength, int immediateData,
                 boolean hasImmediate) {

    static Wc of(WorkCompletion completion) {
        return new Wc(completion.wrId(), completion.status(), completion.opcode(), completion.byteLength(),
                completion.immediateData(), completion.hasImmediate());
    }

    /**
     * The id and status, the two fields valid on every completion.
     *
     * @return {@code "wrId:STATUS"}
     */
    public String idAndStatus() {
        return wrId + ":" + status;
    }
}
