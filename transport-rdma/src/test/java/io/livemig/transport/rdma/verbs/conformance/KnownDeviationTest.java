package io.livemig.transport.rdma.verbs.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.transport.rdma.verbs.WcStatus;
import org.junit.jupiter.api.Test;

/** A known deviation explains one documented difference and nothing else. */
class KnownDeviationTest {

    @Test
    void localErrorsAsLocQpOpErrExplainsOnlyLocQpOpErrInPlaceOfLocalLengthAndProtectionErrors() {
        KnownDeviation deviation = KnownDeviation.LOCAL_ERRORS_AS_LOC_QP_OP_ERR;

        assertThat(deviation.explains(WcStatus.LOC_LEN_ERR, WcStatus.LOC_QP_OP_ERR)).isTrue();
        assertThat(deviation.explains(WcStatus.LOC_PROT_ERR, WcStatus.LOC_QP_OP_ERR)).isTrue();
        assertThat(deviation.explains(WcStatus.LOC_LEN_ERR, WcStatus.GENERAL_ERR)).isFalse();
        assertThat(deviation.explains(WcStatus.REM_ACCESS_ERR, WcStatus.LOC_QP_OP_ERR)).isFalse();
        assertThat(deviation.explains(WcStatus.LOC_LEN_ERR, WcStatus.SUCCESS)).isFalse();
    }

    @Test
    void receiveOverflowNakedAsRemOpErrExplainsOnlyRemOpErrInPlaceOfRemoteInvalidRequest() {
        KnownDeviation deviation = KnownDeviation.RECEIVE_OVERFLOW_NAKED_AS_REM_OP_ERR;

        assertThat(deviation.explains(WcStatus.REM_INV_REQ_ERR, WcStatus.REM_OP_ERR)).isTrue();
        assertThat(deviation.explains(WcStatus.REM_INV_REQ_ERR, WcStatus.REM_ACCESS_ERR)).isFalse();
        assertThat(deviation.replaces(WcStatus.LOC_LEN_ERR)).isFalse();
    }

    @Test
    void receivesPostedInErrorIsNoStatusDeviation() {
        KnownDeviation deviation = KnownDeviation.RECEIVES_POSTED_IN_ERROR_FLUSHED_ON_NEXT_MOVE_TO_ERROR;

        for (WcStatus status : WcStatus.values()) {
            assertThat(deviation.replaces(status)).as("%s", status).isFalse();
        }
    }
}
