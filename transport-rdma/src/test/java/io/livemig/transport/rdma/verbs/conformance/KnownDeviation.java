package io.livemig.transport.rdma.verbs.conformance;

import io.livemig.transport.rdma.verbs.WcStatus;
import java.util.Set;

/**
 * A documented way a device departs from the InfiniBand specification, which the conformance suite accepts from a
 * device only when the provider's fixture declares it for that device ({@link ProviderFixture#knownDeviations}).
 * Each one widens exactly the assertions that name it, and only to the alternative it describes: a device without
 * the declaration is held to the specification. docs/verbs-provider.md lists which devices declare which, and the
 * kernel version they were seen on.
 */
public enum KnownDeviation {

    /**
     * A local length or protection error (a receive too small for the SEND, a receive into memory without local
     * write, a gather from an unknown lkey) completes with {@code LOC_QP_OP_ERR} instead of {@code LOC_LEN_ERR} or
     * {@code LOC_PROT_ERR}. rdma_rxe treats every failed copy between a work request and memory as a malformed work
     * request.
     */
    LOCAL_ERRORS_AS_LOC_QP_OP_ERR(Set.of(WcStatus.LOC_LEN_ERR, WcStatus.LOC_PROT_ERR), WcStatus.LOC_QP_OP_ERR),

    /**
     * The responder answers a SEND longer than the receive with a "remote operational error" NAK instead of an
     * "invalid request" NAK, so the requester completes with {@code REM_OP_ERR} instead of {@code REM_INV_REQ_ERR}.
     * The same failed copy as {@link #LOCAL_ERRORS_AS_LOC_QP_OP_ERR}, seen from the requester.
     */
    RECEIVE_OVERFLOW_NAKED_AS_REM_OP_ERR(Set.of(WcStatus.REM_INV_REQ_ERR), WcStatus.REM_OP_ERR),

    /**
     * A receive posted while the queue pair is in the error state is not flushed at once: it waits in the receive
     * queue until the queue pair is moved to the error state again, which then flushes it with
     * {@code WR_FLUSH_ERR}. Sends posted in the error state are flushed at once.
     */
    RECEIVES_POSTED_IN_ERROR_FLUSHED_ON_NEXT_MOVE_TO_ERROR(Set.of(), null);

    private final Set<WcStatus> replaces;
    private final WcStatus reportedStatus;

    KnownDeviation(Set<WcStatus> replaces, WcStatus reportedStatus) {
        this.replaces = replaces;
        this.reportedStatus = reportedStatus;
    }

    /**
     * Whether this deviation reports {@code actual} where the specification requires {@code specified}.
     *
     * @param specified the status the specification requires
     * @param actual the status the device reported
     * @return true when this deviation explains the difference
     */
    boolean explains(WcStatus specified, WcStatus actual) {
        return replaces.contains(specified) && actual == reportedStatus;
    }

    /**
     * Whether this deviation is about a completion status that the specification sets to {@code specified}.
     *
     * @param specified the status the specification requires
     * @return true when an assertion of that status may name this deviation
     */
    boolean replaces(WcStatus specified) {
        return replaces.contains(specified);
    }
}
