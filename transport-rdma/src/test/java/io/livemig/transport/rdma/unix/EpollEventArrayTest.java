package io.livemig.transport.rdma.unix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class EpollEventArrayTest {

    @Test
    void layoutIsPackedOnX86AndAlignedElsewhere() {
        boolean x86 = EpollEventArray.isX86_64(System.getProperty("os.arch"));

        assertThat(EpollEventArray.EPOLL_EVENT.byteSize()).isEqualTo(x86 ? 12 : 16);
    }

    @Test
    void startsZeroed() {
        try (EpollEventArray array = new EpollEventArray(4)) {
            assertThat(array.capacity()).isEqualTo(4);
            for (int i = 0; i < 4; i++) {
                assertThat(array.events(i)).isZero();
                assertThat(array.data(i)).isZero();
            }
        }
    }

    @Test
    void rejectsIndicesOutsideTheArray() {
        try (EpollEventArray array = new EpollEventArray(2)) {
            assertThatThrownBy(() -> array.events(2)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> array.data(-1)).isInstanceOf(IndexOutOfBoundsException.class);
        }
    }

    @Test
    void rejectsANonPositiveCapacity() {
        assertThatThrownBy(() -> new EpollEventArray(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("capacity must be positive: 0");
    }

    @Test
    void closeIsIdempotent() {
        EpollEventArray array = new EpollEventArray(1);
        array.close();
        array.close();

        assertThatThrownBy(() -> array.events(0)).isInstanceOf(IllegalStateException.class);
    }
}
