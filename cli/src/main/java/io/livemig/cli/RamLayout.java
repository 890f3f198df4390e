package io.livemig.cli;

import io.livemig.migration.ram.BlockAllocator;
import io.livemig.migration.ram.RamBlock;
import io.livemig.migration.ram.RamBlocks;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The RAM blocks a command line describes: {@code --ram SIZE} (one block, {@code pc.ram}, QEMU's name for
 * main RAM) or {@code --blocks name:size,...}, each anonymous memory unless {@code --ram-file} maps it.
 */
final class RamLayout {

    /** QEMU's name for a PC's main RAM block. */
    static final String MAIN_RAM = "pc.ram";

    private RamLayout() {
    }

    /**
     * Names and sizes, in order.
     *
     * @param ram {@code --ram}, used when {@code blocks} is null
     * @param blocks {@code --blocks name:size,...}, or null
     * @return the layout
     */
    static Map<String, Long> parse(long ram, String blocks) {
        Map<String, Long> layout = new LinkedHashMap<>();
        if (blocks == null) {
            layout.put(MAIN_RAM, ram);
            return layout;
        }
        for (String item : blocks.split(",")) {
            int colon = item.lastIndexOf(':');
            if (colon <= 0 || colon == item.length() - 1) {
                throw new IllegalArgumentException("'" + item + "' in --blocks is not name:size (e.g. pc.ram:1G)");
            }
            String name = item.substring(0, colon).strip();
            if (layout.put(name, ByteSize.parse(item.substring(colon + 1))) != null) {
                throw new IllegalArgumentException("--blocks names '" + name + "' twice");
            }
        }
        return layout;
    }

    /**
     * Checks the {@code --ram-file} options against the layout before anything is allocated: each names one of
     * its blocks, once, with a PATH that can be mapped ({@link RamFile#check}).
     *
     * @param layout names and sizes
     * @param files the {@code --ram-file} mappings
     * @throws UsageError for a block the layout lacks or one named twice
     * @throws CommandFailure for a PATH that cannot be mapped
     */
    static void checkFiles(Map<String, Long> layout, List<RamFile> files) {
        for (RamFile file : files) {
            if (!layout.containsKey(file.block())) {
                throw new UsageError("--ram-file names RAM block '" + file.block() + "', which is not one of "
                        + layout.keySet());
            }
        }
        RamFile.check(files);
    }

    /**
     * Makes the blocks one after another in the RAM address space; all or nothing.
     *
     * @param layout names and sizes
     * @param files the {@code --ram-file} mappings
     * @return the blocks, owned by the caller
     */
    static RamBlocks allocate(Map<String, Long> layout, List<RamFile> files) {
        BlockAllocator allocator = allocator(files);
        List<RamBlock> made = new ArrayList<>();
        boolean success = false;
        try {
            long offset = 0;
            for (Map.Entry<String, Long> entry : layout.entrySet()) {
                made.add(allocator.allocate(entry.getKey(), entry.getValue(), offset));
                offset += entry.getValue();
            }
            RamBlocks blocks = RamBlocks.of(made);
            success = true;
            return blocks;
        } finally {
            if (!success) {
                made.forEach(RamBlock::close);
            }
        }
    }

    /**
     * Shared file mappings for the named blocks (the file is created and sized when missing or short),
     * anonymous memory for the others.
     *
     * @param files the {@code --ram-file} mappings
     * @return the allocator
     */
    static BlockAllocator allocator(List<RamFile> files) {
        Map<String, Path> byName = new LinkedHashMap<>();
        files.forEach(file -> byName.put(file.block(), file.path()));
        return (name, usedLength, offset) -> {
            Path path = byName.get(name);
            return path == null ? RamBlock.allocate(name, usedLength, offset)
                    : RamBlock.mapFile(name, path, usedLength, offset, true);
        };
    }

    /**
     * Writes file-backed blocks back to their files (msync), so that the file holds the memory even if the
     * machine goes down right after; other blocks are left alone.
     *
     * @param blocks the blocks
     */
    static void flush(RamBlocks blocks) {
        for (RamBlock block : blocks) {
            if (block.memory().isMapped()) {
                block.memory().force();
            }
        }
    }
}
