package io.livemig.migration.ram;

import io.livemig.transport.rdma.unix.NativeIoException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@link DirtyTrackingMode#UFFD_WP}: one {@link Userfaultfd} with every block registered for write-protection,
 * and {@link Pagemap#scanWritten} to harvest.
 *
 * <p><b>Why no write is lost.</b> {@code PAGEMAP_SCAN} tests and re-protects each page under its page-table lock
 * and flushes the TLB before returning. A store that reached the page before the scan left it unprotected, so the
 * page is reported and the engine, which reads pages only after the harvest, sends the stored bytes. A store after
 * the re-protection faults; the kernel lifts the protection before the store completes, so the next harvest
 * reports the page.
 */
final class UffdWpDirtyTracker implements DirtyTracker {

    private final RamBlocks blocks;
    private final String reason;
    private final Userfaultfd uffd;
    private final Pagemap pagemap;
    private final AtomicBoolean closed = new AtomicBoolean();

    private UffdWpDirtyTracker(RamBlocks blocks, String reason, Userfaultfd uffd, Pagemap pagemap) {
        this.blocks = blocks;
        this.reason = reason;
        this.uffd = uffd;
        this.pagemap = pagemap;
    }

    /**
     * Registers every block; all or nothing.
     *
     * @throws NativeIoException naming the block the kernel refused
     */
    static UffdWpDirtyTracker open(RamBlocks blocks, String reason) throws NativeIoException {
        Userfaultfd uffd = Userfaultfd.open();
        Pagemap pagemap = null;
        boolean success = false;
        try {
            pagemap = Pagemap.open();
            for (RamBlock block : blocks) {
                try {
                    uffd.register(block.address(), block.usedLength());
                } catch (NativeIoException e) {
                    throw new NativeIoException("ioctl(UFFDIO_REGISTER) of RAM block '" + block.name()
                            + "'", e.errno());
                }
            }
            UffdWpDirtyTracker tracker = new UffdWpDirtyTracker(blocks, reason, uffd, pagemap);
            success = true;
            return tracker;
        } finally {
            if (!success) {
                if (pagemap != null) {
                    pagemap.close();
                }
                uffd.close();
            }
        }
    }

    @Override
    public DirtyTrackingMode mode() {
        return DirtyTrackingMode.UFFD_WP;
    }

    @Override
    public String reason() {
        return reason;
    }

    @Override
    public synchronized void start() {
        try {
            for (RamBlock block : blocks) {
                block.dirtyBitmap().syncAndClear();
                uffd.writeProtect(block.address(), block.usedLength());
            }
        } catch (NativeIoException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public synchronized List<DirtyPages> syncAndClear() {
        List<DirtyPages> dirty = new ArrayList<>(blocks.size());
        for (RamBlock block : blocks) {
            long[] words = written(block, true);
            block.dirtyBitmap().syncAndClearInto(words);
            dirty.add(DirtyPages.ofWords(block.pages(), words));
        }
        return dirty;
    }

    @Override
    public synchronized long dirtyPages() {
        long pages = 0;
        for (RamBlock block : blocks) {
            pages += block.dirtyBitmap().dirtyPagesOr(written(block, false));
        }
        return pages;
    }

    private long[] written(RamBlock block, boolean reprotect) {
        long[] words = new long[block.dirtyBitmap().wordCount()];
        long base = block.address();
        try {
            pagemap.scanWritten(base, base + block.usedLength(), reprotect, (start, end) -> DirtyPages.setRange(words,
                    (start - base) / RamBlock.PAGE_SIZE, (end - base) / RamBlock.PAGE_SIZE));
        } catch (NativeIoException e) {
            throw new UncheckedIOException("harvesting the written pages of RAM block '" + block.name() + "'", e);
        }
        return words;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            pagemap.close();
            uffd.close();
        }
    }
}
