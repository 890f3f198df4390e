package io.livemig.transport.rdma.verbs.rdmacore;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The per-work-queue accounting that maps native wr_ids back to the caller's and enforces the asked depth. */
class WorkQueueTest {

    @Test
    void isFullAtExactlyTheRequestedDepth() {
        WorkQueue queue = new WorkQueue(2);

        queue.reserve(10, 0);
        assertThat(queue.isFull()).isFalse();
        queue.reserve(11, 0);

        assertThat(queue.isFull()).isTrue();
        assertThat(queue.outstanding()).isEqualTo(2);
    }

    @Test
    void aCompletionRetiresEveryEarlierUnsignaledRequest() {
        WorkQueue queue = new WorkQueue(4);
        long first = queue.reserve(100, 1);
        queue.reserve(101, 1);
        long third = queue.reserve(102, 2);

        queue.retireThrough(third); // the one signaled completion of three posted requests

        assertThat(queue.outstanding()).isZero();
        assertThat(queue.userId(first)).isEqualTo(100);
        assertThat(queue.userId(third)).isEqualTo(102);
        assertThat(queue.kind(third)).isEqualTo(2);
    }

    @Test
    void slotsAreReusedAroundTheRingWithoutMixingUpIds() {
        WorkQueue queue = new WorkQueue(3);
        for (long id = 0; id < 10; id++) {
            long sequence = queue.reserve(1000 + id, (int) id % 5);
            assertThat(queue.userId(sequence)).isEqualTo(1000 + id);
            assertThat(queue.kind(sequence)).isEqualTo((int) id % 5);
            queue.retireThrough(sequence);
        }
        assertThat(queue.outstanding()).isZero();
    }

    @Test
    void aRefusedPostGivesItsSlotBack() {
        WorkQueue queue = new WorkQueue(1);
        queue.reserve(1, 0);

        queue.unreserve();

        assertThat(queue.isFull()).isFalse();
    }

    @Test
    void anOlderCompletionNeverUnretiresANewerOne() {
        WorkQueue queue = new WorkQueue(4);
        long first = queue.reserve(1, 0);
        long second = queue.reserve(2, 0);

        queue.retireThrough(second);
        queue.retireThrough(first);

        assertThat(queue.outstanding()).isZero();
    }

    @Test
    void receiveBitKeepsSequencesApartFromSends() {
        long sequence = new WorkQueue(2).reserve(7, 0);

        assertThat((sequence | WorkQueue.RECEIVE_BIT) & ~WorkQueue.RECEIVE_BIT).isEqualTo(sequence);
        assertThat(sequence | WorkQueue.RECEIVE_BIT).isNegative();
    }
}
