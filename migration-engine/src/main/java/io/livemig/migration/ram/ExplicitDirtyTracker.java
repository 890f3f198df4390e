package io.livemig.migration.ram;

import java.util.ArrayList;
import java.util.List;

/** {@link DirtyTrackingMode#EXPLICIT}: the blocks' own bitmaps, marked by the application. */
final class ExplicitDirtyTracker implements DirtyTracker {

    private final RamBlocks blocks;
    private final String reason;

    ExplicitDirtyTracker(RamBlocks blocks, String reason) {
        this.blocks = blocks;
        this.reason = reason;
    }

    @Override
    public DirtyTrackingMode mode() {
        return DirtyTrackingMode.EXPLICIT;
    }

    @Override
    public String reason() {
        return reason;
    }

    @Override
    public void start() {
        for (RamBlock block : blocks) {
            block.dirtyBitmap().syncAndClear();
        }
    }

    @Override
    public List<DirtyPages> syncAndClear() {
        List<DirtyPages> dirty = new ArrayList<>(blocks.size());
        for (RamBlock block : blocks) {
            dirty.add(block.dirtyBitmap().syncAndClear());
        }
        return dirty;
    }

    @Override
    public long dirtyPages() {
        long pages = 0;
        for (RamBlock block : blocks) {
            pages += block.dirtyBitmap().dirtyPages();
        }
        return pages;
    }

    @Override
    public void close() {
        // The bitmaps belong to the blocks.
    }
}
