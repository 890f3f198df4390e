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
    void destinationNeverLetsARequestLeaveItsBlockAndNamesTheRequestItRefuses() {
        try (RamBlocks destination = RamBlocks.of(List.of(RamBlock.allocate("a", 2 * MIB + 8192, 0x100000000L)))) {
            DestinationBlockTable table = DestinationBlockTable.match(destination, destination.blockList());
            long base = 0x100000000L;
            assertThatThrownBy(() -> table.resolveRegister(new RegisterRequest(base, 1, 0)))
                    .isInstanceOf(ProtocolException.class)
                    .hasMessage("refused REGISTER REQUEST for block 1: no such block (the destination has 1)");
            assertThatThrownBy(() -> table.resolveRegister(new RegisterRequest(0xFFFFF000L, 0, 0)))
                    .hasMessage("refused REGISTER REQUEST for block 0 ('a'), address 0xfffff000, 1 chunk:"
                            + " the address is below the block's start, 0x100000000");
            assertThatThrownBy(() -> table.resolveRegister(new RegisterRequest(base + 3 * MIB, 0, 0)))
                    .hasMessage("refused REGISTER REQUEST for block 0 ('a'), offset 0x300000, 1 chunk:"
                            + " the offset is beyond the block's end, 0x202000");
            assertThatThrownBy(() -> table.resolveRegister(new RegisterRequest(base + 2 * MIB + 8192, 0, 0)))
                    .hasMessage("refused REGISTER REQUEST for block 0 ('a'), offset 0x202000, 1 chunk:"
                            + " that is the block's end, with no byte left to register");
            assertThatThrownBy(() -> table.resolveRegister(new RegisterRequest(base + 2 * MIB, 0, 1)))
                    .hasMessage("refused REGISTER REQUEST for block 0 ('a'), offset 0x200000, 2 chunks:"
                            + " chunks 2 to 3 go past the block's last chunk, 2");
            // The chunk count is an unsigned u64 on the wire: said as such, never as a negative number.
            assertThatThrownBy(() -> table.resolveRegister(new RegisterRequest(base, 0, -1)))
                    .hasMessage("refused REGISTER REQUEST for block 0 ('a'), offset 0x0, 18446744073709551616 chunks:"
                            + " chunks 0 to 18446744073709551615 go past the block's last chunk, 2");
            // The last, partial chunk is registrable and clipped to the block end.
            assertThat(table.resolveRegister(new RegisterRequest(base + 2 * MIB, 0, 0)).memory().byteSize())
                    .isEqualTo(8192);
            assertThatThrownBy(() -> table.resolveCompress(new Compress(0, 0, base + 2 * MIB, 3 * 4096)))
                    .hasMessage("refused COMPRESS for block 0 ('a'), offset 0x200000, 12288 bytes:"
                            + " the range ends beyond the block's end, 0x202000");
            assertThatThrownBy(() -> table.resolveCompress(new Compress(0, 0, base + 3 * MIB, 4096)))
                    .hasMessage("refused COMPRESS for block 0 ('a'), offset 0x300000, 4096 bytes:"
                            + " the offset is beyond the block's end, 0x202000");
            assertThatThrownBy(() -> table.resolveCompress(new Compress(0, 0, base - 4096, 4096)))
                    .hasMessage("refused COMPRESS for block 0 ('a'), address 0xfffff000, 4096 bytes:"
                            + " the address is below the block's start, 0x100000000");
            assertThatThrownBy(() -> table.resolveCompress(new Compress(1, 0, base, 4096)))
                    .hasMessage("refused COMPRESS for block 0 ('a'), offset 0x0, 4096 bytes: fill value 1,"
                            + " but only zero pages are supported");
            assertThatThrownBy(() -> table.resolveCompress(Compress.zero(-1, base, 4096)))
                    .hasMessage("refused COMPRESS for block 4294967295: no such block (the destination has 1)");
        }
    }
}
