package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.verbs.WcOpcode;
import io.livemig.transport.rdma.verbs.WcStatus;
import io.livemig.transport.rdma.verbs.WorkCompletion;

/** A completion queue entry as stored inside a soft completion queue. */
record Completion(long wrId, WcStatus status, WcOpcode opcode, int byteLength, int immediateData,
                  boolean hasImmediate, int qpNumber) {

    static Completion error(long wrId, WcStatus status, WcOpcode opcode, int qpNumber) {
        return new Completion(wrId, status, opcode, 0, 0, false, qpNumber);
    }

    void copyTo(WorkCompletion slot) {
        slot.set(wrId, status, opcode, byteLength, immediateData, hasImmediate, qpNumber);
    }
}
