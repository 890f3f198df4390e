package io.livemig.migration.ram;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.livemig.migration.protocol.BlockListEntry;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RamBlockTest {

    @Test
    void allocatesAZeroedPageAlignedBlockLargerThan2GiB() {
        long size = 3L << 30;
        try (RamBlock block = RamBlock.allocate("pc.ram", size, 0)) {
            assertThat(block.usedLength()).isEqualTo(size);
            assertThat(block.address() % RamBlock.PAGE_SIZE).isZero();
            assertThat(block.pages()).isEqualTo(size / 4096);
            block.putLong(size - 8, 0x0102030405060708L);
            assertThat(block.memory().get(ValueLayout.JAVA_LONG_UNALIGNED, size - 8)).isEqualTo(0x0102030405060708L);
            assertThat(block.memory().get(ValueLayout.JAVA_BYTE, 1L << 31)).isZero();
            assertThat(block.dirtyBitmap().isDirty(size / 4096 - 1)).isTrue();
            assertThat(block.dirtyBitmap().dirtyPages()).isEqualTo(1);
        }
    }

    @Test
    void trackedWritesMarkEveryPageTheyTouch() {
        try (RamBlock block = RamBlock.allocate("vga.vram", 16 * 4096, 0)) {
            block.fill(4095, 2, (byte) 7);
            block.write(8 * 4096, MemorySegment.ofArray(new byte[4096 * 2 + 1]));
            assertThat(block.dirtyBitmap().dirtyPages()).isEqualTo(2 + 3);
            assertThat(block.memory().get(ValueLayout.JAVA_BYTE, 4096)).isEqualTo((byte) 7);
        }
    }

    @Test
    void wrapsApplicationMemoryWithoutTakingOwnership() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment memory = arena.allocate(8192, 4096);
            RamBlock block = RamBlock.wrap("app", memory, 0x10000);
            assertThat(block.ownsMemory()).isFalse();
            block.close();
            memory.set(ValueLayout.JAVA_BYTE, 0, (byte) 1); // still the application's, still usable
        }
    }

    @Test
    void rejectsBadShapes() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment unaligned = arena.allocate(8192 + 8, 4096).asSlice(8, 8192);
            assertThatThrownBy(() -> RamBlock.wrap("x", unaligned, 0))
                    .hasMessage("RAM block 'x' must be page-aligned native memory");
            assertThatThrownBy(() -> RamBlock.wrap("heap", MemorySegment.ofArray(new byte[4096]), 0))
                    .hasMessage("RAM block 'heap' must be page-aligned native memory");
        }
        assertThatThrownBy(() -> RamBlock.allocate("odd", 5000, 0))
                .hasMessage("RAM block 'odd': used length 5000 is not a positive whole number of 4096-byte pages");
        assertThatThrownBy(() -> RamBlock.allocate("off", 4096, 100))
                .hasMessage("RAM block 'off': offset 100 is not a non-negative multiple of 4096");
        assertThatThrownBy(() -> RamBlock.allocate("", 4096, 0)).hasMessage("RAM block name is empty");
    }

    @Test
    void mapsAFileSoTheMemoryOutlivesTheProcess(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("ram.img");
        try (RamBlock block = RamBlock.mapFile("pc.ram", file, 4 * 4096, 0, true)) {
            block.fill(4096, 4096, (byte) 0x5A);
        }
        byte[] contents = Files.readAllBytes(file);
        assertThat(contents).hasSize(4 * 4096);
        assertThat(contents[4096]).isEqualTo((byte) 0x5A);
        assertThat(contents[0]).isZero();
        try (RamBlock again = RamBlock.mapFile("pc.ram", file, 4 * 4096, 0, false)) {
            assertThat(again.memory().get(ValueLayout.JAVA_BYTE, 8191)).isEqualTo((byte) 0x5A);
        }
        Path missing = dir.resolve("missing.img");
        assertThatThrownBy(() -> RamBlock.mapFile("pc.ram", missing, 4096, 0, false))
                .hasMessageStartingWith("cannot map RAM block 'pc.ram' from " + missing);
        Path shortFile = dir.resolve("short.img");
        Files.write(shortFile, new byte[4096]);
        assertThatThrownBy(() -> RamBlock.mapFile("pc.ram", shortFile, 8192, 0, false))
                .hasMessage("cannot map RAM block 'pc.ram' from " + shortFile + ": file " + shortFile
                        + " holds 4096 bytes, less than the 8192 bytes of RAM block 'pc.ram'");
    }

    @Test
    void destinationRefusesToAllocateAboveItsMemoryLimit() {
        List<BlockListEntry> announced = List.of(new BlockListEntry("pc.ram", 3L << 30),
                new BlockListEntry("vga.vram", 16 << 20));
        assertThatThrownBy(() -> RamBlocks.allocateAnnounced(announced, 2L << 30))
                .isInstanceOf(RamLimitExceededException.class)
                .hasMessage("the source announces 2 RAM blocks of 3238002688 bytes in total, above this destination's"
                        + " memory limit of 2147483648 bytes");
        try (RamBlocks blocks = RamBlocks.allocateAnnounced(announced, 4L << 30)) {
            assertThat(blocks.size()).isEqualTo(2);
            assertThat(blocks.get(1).offset()).isEqualTo(3L << 30);
            assertThat(blocks.indexOf("vga.vram")).contains(1);
            assertThat(blocks.byName("nope")).isEmpty();
            assertThat(blocks.totalBytes()).isEqualTo((3L << 30) + (16 << 20));
            assertThat(blocks.blockList()).isEqualTo(announced);
        }
    }

    @Test
    void aSetRejectsDuplicateNamesAndOverlaps() {
        try (RamBlock a = RamBlock.allocate("a", 8192, 0);
                RamBlock b = RamBlock.allocate("a", 4096, 8192);
                RamBlock c = RamBlock.allocate("c", 4096, 4096)) {
            assertThatThrownBy(() -> RamBlocks.of(List.of(a, b))).hasMessage("two RAM blocks are named 'a'");
            assertThatThrownBy(() -> RamBlocks.of(List.of(a, c)))
                    .hasMessage("RAM blocks 'a' and 'c' overlap in the RAM address space");
        }
    }

    @Test
    void populateCommitsEveryPageOfAnAllocatedBlockAndKeepsItsContents() throws Exception {
        long size = 192L << 20;
        try (RamBlock block = RamBlock.allocate("pc.ram", size, 0)) {
            block.putLong(size - 8, 0x0123456789abcdefL);
            long before = residentBytes();
            block.populate();
            long after = residentBytes();
            assertThat(after - before).as("resident growth").isGreaterThan(size * 9 / 10);
            assertThat(block.memory().get(ValueLayout.JAVA_LONG_UNALIGNED, size - 8)).isEqualTo(0x0123456789abcdefL);
            assertThat(block.memory().get(ValueLayout.JAVA_LONG_UNALIGNED, 0)).isZero();
        }
    }

    /** VmRSS of this process from /proc/self/status. */
    private static long residentBytes() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new AssertionError("no VmRSS in /proc/self/status");
    }

    @Test
    void aBlockAllocatorMakesTheAnnouncedBlocksFileBackedWhereItChooses(@TempDir Path dir) throws Exception {
        List<BlockListEntry> announced = List.of(new BlockListEntry("pc.ram", 1L << 20),
                new BlockListEntry("vga.vram", 64 * 1024));
        Path file = dir.resolve("pc.ram");
        BlockAllocator allocator = (name, length, offset) -> name.equals("pc.ram")
                ? RamBlock.mapFile(name, file, length, offset, true) : RamBlock.allocate(name, length, offset);
        try (RamBlocks blocks = RamBlocks.allocateAnnounced(announced, 2L << 20, allocator)) {
            assertThat(blocks.get(1).offset()).isEqualTo(1L << 20);
            blocks.get(0).putLong(4096, 42);
            blocks.get(1).putLong(0, 7);
        }
        assertThat(Files.size(file)).isEqualTo(1L << 20);
        assertThat(MemorySegment.ofArray(Files.readAllBytes(file)).get(ValueLayout.JAVA_LONG_UNALIGNED, 4096))
                .isEqualTo(42);

        BlockAllocator wrongSize = (name, length, offset) -> RamBlock.allocate(name, length * 2, offset);
        assertThatThrownBy(() -> RamBlocks.allocateAnnounced(announced, 2L << 20, wrongSize))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("the block allocator made ")
                .hasMessageEndingWith(" for RAM block 'pc.ram' of 1048576 bytes");
    }
}
