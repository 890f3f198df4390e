package io.livemig.migration.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Spec sections 3.5, 4.3, 5.1 and the local values of 13.7. */
class ChunksTest {

    private static final long KIB = 1024;
    private static final long MIB = 1024 * KIB;
    private static final long GIB = 1024 * MIB;

    @Test
    void chunkCountIsOneMoreThanWholeMebibytes() {
        assertThat(Chunks.count(4 * GIB)).isEqualTo(4097);
        assertThat(Chunks.count(256 * KIB)).isEqualTo(1);
        assertThat(Chunks.count(MIB)).isEqualTo(2);
        assertThat(Chunks.count(MIB + MIB / 2)).isEqualTo(2);
    }

    @Test
    void chunksFieldOfAWrite() {
        assertThat(Chunks.chunksField(4 * KIB)).isZero();
        assertThat(Chunks.chunksField(MIB)).isZero();
        assertThat(Chunks.chunksField(1020 * KIB)).isZero();
        assertThat(Chunks.chunksField(2 * MIB)).isEqualTo(1);
        assertThat(Chunks.chunksField(2 * MIB + 1)).isEqualTo(2);
    }

    @Test
    void chunkBoundsClipToTheBlockEnd() {
        long base = 0x7f0000000000L;
        assertThat(Chunks.index(0x345000)).isEqualTo(3);
        assertThat(Chunks.start(base, 3)).isEqualTo(base + 3 * MIB);
        assertThat(Chunks.end(base, 10 * MIB, 3)).isEqualTo(base + 4 * MIB);
        assertThat(Chunks.end(base, 3 * MIB + 4096, 3)).isEqualTo(base + 3 * MIB + 4096);
        // The extra chunk of a whole-MiB block is empty.
        assertThat(Chunks.end(base, 2 * MIB, 2)).isEqualTo(base + 2 * MIB);
    }

    @Test
    void addressTranslationBetweenRamAddressSpaces() {
        long sourceBlockOffset = 0x80000000L;
        long destBlockOffset = 0x100000000L;
        long wire = Chunks.toWireAddress(destBlockOffset, sourceBlockOffset + 0x7000, sourceBlockOffset);
        assertThat(wire).isEqualTo(0x100007000L);
        assertThat(Chunks.offsetInBlock(wire, destBlockOffset, 64 * KIB, 3 * 4096)).isEqualTo(0x7000);
    }

    @Test
    void destinationRejectsAddressesOutsideTheBlock() {
        assertThatThrownBy(() -> Chunks.offsetInBlock(0xfff, 0x1000, 0x2000, 0))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("bad register address 0xfff: below the block's offset 0x1000");
        assertThatThrownBy(() -> Chunks.offsetInBlock(0x2800, 0x1000, 0x2000, 0x1000))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("address range 0x2800 + 4096 leaves the block [0x1000, 0x3000)");
        assertThat(Chunks.offsetInBlock(0x2000, 0x1000, 0x2000, 0x1000)).isEqualTo(0x1000);
        assertThatThrownBy(() -> Chunks.offsetInBlock(0x2000, 0x1000, 0x2000, -1))
                .isInstanceOf(ProtocolException.class);
    }

    @Test
    void writeWorkRequestIdsPackBlockAndChunkLikeQemu() {
        long wrId = WorkRequestIds.rdmaWrite(2, 5);
        assertThat(wrId).isEqualTo(0x0000000140020001L);
        assertThat(WorkRequestIds.type(wrId)).isEqualTo(WorkRequestIds.RDMA_WRITE);
        assertThat(WorkRequestIds.blockIndex(wrId)).isEqualTo(2);
        assertThat(WorkRequestIds.chunk(wrId)).isEqualTo(5);
        long last = WorkRequestIds.rdmaWrite(16383, (1L << 34) - 1);
        assertThat(WorkRequestIds.blockIndex(last)).isEqualTo(16383);
        assertThat(WorkRequestIds.chunk(last)).isEqualTo((1L << 34) - 1);
        assertThatThrownBy(() -> WorkRequestIds.rdmaWrite(16384, 0))
                .hasMessage("block index 16384 does not fit 14 bits");
    }

    @Test
    void controlWorkRequestIds() {
        assertThat(WorkRequestIds.SEND_CONTROL).isEqualTo(0x7D0);
        assertThat(WorkRequestIds.receiveControl(WorkRequestIds.READY_SLOT)).isEqualTo(0xFA0);
        assertThat(WorkRequestIds.receiveControl(WorkRequestIds.DATA_SLOT)).isEqualTo(0xFA1);
    }

    @Test
    void mostBlocksInOneResult() {
        assertThat(RemoteBlock.MAX_PER_MESSAGE).isEqualTo(16383);
    }
}
