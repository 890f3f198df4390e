package io.livemig.transport.rdma.channel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;

/** The primitive FIFO keeps order across wrap-around and growth. */
class LongQueueTest {

    @Test
    void keepsFifoOrderAcrossWrapAroundAndGrowth() {
        LongQueue queue = new LongQueue(4);
        long next = 0;
        long expected = 0;
        for (int round = 0; round < 100; round++) {
            for (int i = 0; i < round % 7 + 1; i++) {
                queue.add(next++);
            }
            for (int i = 0; i < round % 5 && !queue.isEmpty(); i++) {
                assertThat(queue.poll()).isEqualTo(expected++);
            }
        }
        while (!queue.isEmpty()) {
            assertThat(queue.poll()).isEqualTo(expected++);
        }
        assertThat(expected).isEqualTo(next);
    }

    @Test
    void pollOfAnEmptyQueueFails() {
        assertThatThrownBy(() -> new LongQueue(1).poll()).isInstanceOf(NoSuchElementException.class);
    }
}
