package io.livemig.transport.rdma.channel;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.transport.rdma.unix.Errno;
import io.livemig.transport.rdma.verbs.CmEvent;
import org.junit.jupiter.api.Test;

class RdmaConnectionRejectedExceptionTest {

    private static RdmaConnectionRejectedException rejected(int reason) {
        return new RdmaConnectionRejectedException("rejected", reason, new byte[0]);
    }

    @Test
    void describesTheRejectReasonsAConnectMeets() {
        assertThat(RdmaConnectionRejectedException.describe(CmEvent.REJECT_INVALID_SERVICE_ID))
                .isEqualTo("invalid service ID (reject reason 8)");
        assertThat(RdmaConnectionRejectedException.describe(CmEvent.REJECT_CONSUMER_DEFINED))
                .isEqualTo("consumer reject (reject reason 28)");
        assertThat(RdmaConnectionRejectedException.describe(3)).isEqualTo("no resources available (reject reason 3)");
        assertThat(RdmaConnectionRejectedException.describe(-Errno.ECONNREFUSED))
                .isEqualTo("connection refused (ECONNREFUSED)");
        assertThat(RdmaConnectionRejectedException.describe(33)).isEqualTo("reject reason 33");
    }

    @Test
    void nothingListensWhereTheCmFindsNoServiceOrTheIwarpConnectIsRefused() {
        assertThat(rejected(CmEvent.REJECT_INVALID_SERVICE_ID).nothingListening()).isTrue();
        assertThat(rejected(-Errno.ECONNREFUSED).nothingListening()).isTrue();
        assertThat(rejected(CmEvent.REJECT_CONSUMER_DEFINED).nothingListening()).isFalse();
        assertThat(rejected(3).nothingListening()).isFalse();
    }
}
