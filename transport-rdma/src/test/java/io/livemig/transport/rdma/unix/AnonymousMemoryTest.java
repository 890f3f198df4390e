package io.livemig.transport.rdma.unix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class AnonymousMemoryTest {

    @Test
    void mapsPageAlignedZeroedMemoryRoundedUpToWholePages() throws Exception {
        try (AnonymousMemory memory = AnonymousMemory.map(10_000)) {
            MemorySegment segment = memory.segment();
            assertThat(segment.byteSize()).isEqualTo(3 * 4096);
            assertThat(segment.address() % AnonymousMemory.pageSize()).isZero();
            assertThat(segment.mismatch(MemorySegment.ofArray(new byte[(int) segment.byteSize()]))).isEqualTo(-1);
            segment.set(ValueLayout.JAVA_LONG_UNALIGNED, 9_992, 0x1122334455667788L);
            assertThat(segment.get(ValueLayout.JAVA_LONG_UNALIGNED, 9_992)).isEqualTo(0x1122334455667788L);
        }
    }

    @Test
    void reservesMoreThan2GiBWithoutTouchingIt() throws Exception {
        long size = 5L << 30;
        try (AnonymousMemory memory = AnonymousMemory.map(size)) {
            MemorySegment segment = memory.segment();
            assertThat(segment.byteSize()).isEqualTo(size);
            // Touch the first and the last page only: the rest is never committed.
            segment.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
            segment.set(ValueLayout.JAVA_BYTE, size - 1, (byte) 2);
            assertThat(segment.get(ValueLayout.JAVA_BYTE, size - 1)).isEqualTo((byte) 2);
            assertThat(segment.get(ValueLayout.JAVA_BYTE, size / 2)).isZero();
        }
    }

    @Test
    void closeIsIdempotentAndLaterAccessFailsInsteadOfTouchingUnmappedMemory() throws Exception {
        AnonymousMemory memory = AnonymousMemory.map(4096);
        MemorySegment segment = memory.segment();
        memory.close();
        memory.close();
        assertThat(memory.isOpen()).isFalse();
        assertThatThrownBy(() -> segment.get(ValueLayout.JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void rejectsANonPositiveSize() {
        assertThatThrownBy(() -> AnonymousMemory.map(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("mapping size must be positive: 0");
    }

    @Test
    void reportsMmapFailureWithErrno() {
        // 2^62 bytes exceeds any address space: mmap answers ENOMEM.
        assertThatThrownBy(() -> AnonymousMemory.map(1L << 62))
                .isInstanceOf(NativeIoException.class)
                .hasMessage("mmap failed: ENOMEM (Cannot allocate memory)");
    }
}
