package io.livemig.migration.destination;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.Compress;
import io.livemig.migration.protocol.ProtocolException;
import io.livemig.migration.protocol.RegisterRequest;
import io.livemig.migration.protocol.RemoteBlock;
import io.livemig.migration.ram.RamBlock;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.source.SourceBlockTable;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Block matching on both sides (spec 4.2), address translation (4.3) and request validation (5.4, 6.3). */
class BlockTablesTest {

    private static final long MIB = 1 << 20;

    @Test
    void destinationOrdersItsBlocksLikeTheSourceAndTranslatesAddresses() {
        // The destination placed its blocks in another order and at other offsets than the source.
        try (RamBlocks destination = RamBlocks.of(List.of(RamBlock.allocate("vga", 2 * MIB, 0),
                RamBlock.allocate("pc.ram", 3 * MIB, 0x10000000L)));
                RamBlocks source = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 3 * MIB),
                        new BlockListEntry("vga", 2 * MIB)))) {
            DestinationBlockTable table = DestinationBlockTable.match(destination, source.blockList());
            assertThat(table.get(0).name()).isEqualTo("pc.ram");
            List<RemoteBlock> result = table.remoteBlocks(b -> 0);
            assertThat(result).extracting(RemoteBlock::offset).containsExactly(0x10000000L, 0L);

            SourceBlockTable sourceView = SourceBlockTable.check(source, result);
            // vga sits at 3 MiB on the source and at 0 on the destination.
            long wire = sourceView.wireAddress(1, MIB + 0x3000);
            assertThat(wire).isEqualTo(MIB + 0x3000);
            assertThat(sourceView.targetAddress(1, 0x3000)).isEqualTo(destination.get(0).address() + 0x3000);

            DestinationBlockTable.ChunkRange range = table.resolveRegister(new RegisterRequest(wire, 1, 0));
            assertThat(range.block().name()).isEqualTo("vga");
            assertThat(range.firstChunk()).isEqualTo(1);
            assertThat(range.memory().address()).isEqualTo(destination.get(0).address() + MIB);
            assertThat(range.memory().byteSize()).isEqualTo(MIB);

            assertThat(table.resolveCompress(Compress.zero(0, 0x10000000L + 0x5000, 0x2000)).address())
                    .isEqualTo(destination.get(1).address() + 0x5000);
        }
    }

    @Test
    void destinationRejectsUnknownNamesAndLengthMismatchWithQemusTexts() {
        try (RamBlocks destination = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 2 * MIB)))) {
            assertThatThrownBy(() -> DestinationBlockTable.match(destination,
                    List.of(new BlockListEntry("pc.rom", 2 * MIB))))
                    .isInstanceOf(ProtocolException.class)
                    .hasMessage("RAMBlock 'pc.rom' not found on destination");
            assertThatThrownBy(() -> DestinationBlockTable.match(destination,
                    List.of(new BlockListEntry("pc.ram", MIB))))
                    .hasMessage("Length mismatch: pc.ram: 0x100000 in != 0x200000");
        }
    }

    @Test
    void sourceRejectsCountAndLengthMismatchWithQemusTexts() {
        try (RamBlocks source = RamBlocks.allocate(List.of(new BlockListEntry("a", MIB),
                new BlockListEntry("b", MIB)))) {
            assertThatThrownBy(() -> SourceBlockTable.check(source, List.of(new RemoteBlock(0, 0, MIB, 0))))
                    .isInstanceOf(ProtocolException.class)
                    .hasMessage("ram blocks mismatch (Number of blocks 1 vs 2); your source and destination RAM"
                            + " layouts are probably not identical");
            assertThatThrownBy(() -> SourceBlockTable.check(source,
                    List.of(new RemoteBlock(0, 0, MIB, 0), new RemoteBlock(0, MIB, 2 * MIB, 0))))
                    .hasMessage("Block b/1 has a different length 1048576 vs 2097152");
        }
    }

    @Test
    void destinationNeverLetsARequestLeaveItsBlock() {
        try (RamBlocks destination = RamBlocks.of(List.of(RamBlock.allocate("a", 2 * MIB + 8192, 0x100000000L)))) {
            DestinationBlockTable table = DestinationBlockTable.match(destination, destination.blockList());
            assertThatThrownBy(() -> table.resolveRegister(new RegisterRequest(0x100000000L, 1, 0)))
                    .hasMessage("'register' bad block index 1 (vs 1)");
            assertThatThrownBy(() -> table.resolveRegister(new RegisterRequest(0xFFFFF000L, 0, 0)))
                    .hasMessage("bad register address 0xfffff000: below the block's offset 0x100000000");
            assertThatThrownBy(() -> table.resolveRegister(new RegisterRequest(0x100000000L + 3 * MIB, 0, 0)))
                    .hasMessageStartingWith("address range 0x100300000 + 0 leaves the block");
            assertThatThrownBy(() -> table.resolveRegister(new RegisterRequest(0x100000000L + 2 * MIB + 8192, 0, 0)))
                    .hasMessage("bad register address 0x100202000: the end of block 'a'");
            assertThatThrownBy(() -> table.resolveRegister(new RegisterRequest(0x100000000L + 2 * MIB, 0, 1)))
                    .hasMessage("register request for chunks 2 + 1 exceeds the 3 chunks of block 'a'");
            // The last, partial chunk is registrable and clipped to the block end.
            assertThat(table.resolveRegister(new RegisterRequest(0x100000000L + 2 * MIB, 0, 0)).memory().byteSize())
                    .isEqualTo(8192);
            assertThatThrownBy(() -> table.resolveCompress(new Compress(0, 0, 0x100000000L + 2 * MIB, 3 * 4096)))
                    .hasMessage("address range 0x100200000 + 12288 leaves the block [0x100000000, 0x100202000)");
            assertThatThrownBy(() -> table.resolveCompress(new Compress(1, 0, 0x100000000L, 4096)))
                    .hasMessage("Zero page with non-zero (1) value");
            assertThatThrownBy(() -> table.resolveCompress(Compress.zero(-1, 0x100000000L, 4096)))
                    .hasMessage("'compress' bad block index 4294967295 (vs 1)");
        }
    }
}
