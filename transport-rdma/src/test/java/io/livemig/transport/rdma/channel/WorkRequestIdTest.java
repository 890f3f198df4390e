package io.livemig.transport.rdma.channel;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The wr_id layout: registration | kind | slot, each recoverable. */
class WorkRequestIdTest {

    @Test
    void packsAndUnpacksEveryField() {
        int local = WorkRequestId.local(WorkRequestId.RECEIVE, WorkRequestId.MAX_INDEX);
        long wrId = WorkRequestId.pack((1 << 29) - 1, local);
        assertThat(WorkRequestId.registration(wrId)).isEqualTo((1 << 29) - 1);
        assertThat(WorkRequestId.local(wrId)).isEqualTo(local);
        assertThat(WorkRequestId.kind(wrId)).isEqualTo(WorkRequestId.RECEIVE);
        assertThat(WorkRequestId.index(wrId)).isEqualTo(WorkRequestId.MAX_INDEX);
    }

    @Test
    void kindsAndIndexesDoNotOverlap() {
        long wrId = WorkRequestId.pack(7, WorkRequestId.local(WorkRequestId.SEND, 0));
        assertThat(WorkRequestId.kind(wrId)).isEqualTo(WorkRequestId.SEND);
        assertThat(WorkRequestId.index(wrId)).isZero();
        assertThat(WorkRequestId.registration(wrId)).isEqualTo(7);
    }
}
