package io.livemig.migration.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.livemig.migration.ram.DirtyBitmap;
import io.livemig.migration.ram.DirtyPages;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class WriteMergerTest {

    private static final long PAGE = 4096;
    private static final long MIB = 1 << 20;

    @Test
    void mergesContiguousPagesAndCutsAtChunkBoundaries() {
        DirtyBitmap bitmap = new DirtyBitmap(1024); // 4 MiB
        bitmap.markRange(0, 2 * PAGE);                         // pages 0-1
        bitmap.markRange(MIB - PAGE, 3 * PAGE);                 // crosses the first chunk boundary
        bitmap.markRange(2 * MIB, 2 * MIB);                     // two whole chunks
        assertThat(writes(bitmap.syncAndClear())).containsExactly(
                new ChunkWrite(7, 0, 2 * PAGE),
                new ChunkWrite(7, MIB - PAGE, PAGE),
                new ChunkWrite(7, MIB, 2 * PAGE),
                new ChunkWrite(7, 2 * MIB, MIB),
                new ChunkWrite(7, 3 * MIB, MIB));
    }

    @Test
    void aFullBlockBecomesOneWritePerChunkWithAShortLastOne() {
        long pages = (3 * MIB + 5 * PAGE) / PAGE;
        List<ChunkWrite> writes = writes(DirtyPages.all(pages));
        assertThat(writes).hasSize(4);
        assertThat(writes.getLast()).isEqualTo(new ChunkWrite(7, 3 * MIB, 5 * PAGE));
        assertThat(writes.stream().mapToLong(ChunkWrite::length).sum()).isEqualTo(pages * PAGE);
    }

    @Test
    void aWriteNeverCrossesAChunk() {
        assertThatThrownBy(() -> new ChunkWrite(0, MIB - PAGE, 2 * PAGE))
                .hasMessage("write [1044480, +8192) is empty or crosses a chunk");
    }

    @Test
    void remoteKeyCacheTreatsZeroAsUnregistered() {
        RemoteKeyCache cache = new RemoteKeyCache(4 * MIB);
        assertThat(cache.isRegistered(4)).isFalse(); // (4 MiB >> 20) + 1 = 5 chunks, the last one empty
        cache.put(2, 0x1234);
        assertThat(cache.get(2)).isEqualTo(0x1234);
        assertThat(cache.registeredChunks()).isEqualTo(1);
        assertThatThrownBy(() -> cache.put(3, 0))
                .hasMessage("destination returned rkey 0 for chunk 3; 0 means 'unregistered'");
    }

    @Test
    void zeroDetectionLooksAtEveryByte() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment range = arena.allocate(3 * MIB, 4096);
            assertThat(ZeroRanges.isZero(range)).isTrue();
            range.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 3 * MIB - 1, (byte) 1);
            assertThat(ZeroRanges.isZero(range)).isFalse();
            assertThat(ZeroRanges.isZero(range.asSlice(0, 3 * MIB - 1))).isTrue();
        }
    }

    private static List<ChunkWrite> writes(DirtyPages pages) {
        List<ChunkWrite> writes = new ArrayList<>();
        WriteMerger.forEachWrite(7, pages, writes::add);
        return writes;
    }
}
