package io.livemig.migration.ram;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@link DirtyTrackingMode#SOFT_DIRTY}: writing {@code 4} to {@code /proc/self/clear_refs} clears the soft-dirty
 * bit of every page of the process and write-protects it; the next write to a page sets the bit again, which
 * {@code /proc/self/pagemap} reports as bit 55 of the page's 64-bit entry (Documentation/admin-guide/mm/
 * soft-dirty.rst, pagemap.rst).
 *
 * <p><b>Limits.</b> The clear is process-wide: it also clears the bits of every other soft-dirty user in the JVM
 * (a second migration in soft-dirty mode, a checkpointing library). And the read and the clear are two steps:
 * a page first written after its entry was read and before the clear is missed unless it is written again. This is
 * why {@link DirtyTrackingMode#AUTO} prefers {@link DirtyTrackingMode#UFFD_WP}.
 */
final class SoftDirtyTracker implements DirtyTracker {

    /** Bit 55 of a pagemap entry: the page's soft-dirty bit. */
    static final long PM_SOFT_DIRTY = 1L << 55;
    /** {@code CLEAR_REFS_SOFT_DIRTY} of fs/proc/task_mmu.c. */
    static final byte[] CLEAR_SOFT_DIRTY = "4".getBytes(StandardCharsets.US_ASCII);
    static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");
    static final Path PAGEMAP = Path.of("/proc/self/pagemap");
    /** Pagemap entries read per {@code pread}: 512 KiB. */
    private static final int ENTRIES = 64 * 1024;

    private final RamBlocks blocks;
    private final String reason;
    private final FileChannel pagemap;
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(ENTRIES * Long.BYTES).order(ByteOrder.nativeOrder());
    private final AtomicBoolean closed = new AtomicBoolean();

    SoftDirtyTracker(RamBlocks blocks, String reason) throws IOException {
        this.blocks = blocks;
        this.reason = reason;
        this.pagemap = FileChannel.open(PAGEMAP, StandardOpenOption.READ);
    }

    @Override
    public DirtyTrackingMode mode() {
        return DirtyTrackingMode.SOFT_DIRTY;
    }

    @Override
    public String reason() {
        return reason;
    }

    @Override
    public synchronized void start() {
        for (RamBlock block : blocks) {
            block.dirtyBitmap().syncAndClear();
        }
        clearRefs();
    }

    @Override
    public synchronized List<DirtyPages> syncAndClear() {
        List<long[]> all = new ArrayList<>(blocks.size());
        for (RamBlock block : blocks) {
            all.add(softDirty(block));
        }
        // One clear after every block was read: it is process-wide, so clearing per block would drop the bits
        // of the blocks not yet read.
        clearRefs();
        List<DirtyPages> dirty = new ArrayList<>(blocks.size());
        for (int i = 0; i < blocks.size(); i++) {
            RamBlock block = blocks.get(i);
            block.dirtyBitmap().syncAndClearInto(all.get(i));
            dirty.add(DirtyPages.ofWords(block.pages(), all.get(i)));
        }
        return dirty;
    }

    @Override
    public synchronized long dirtyPages() {
        long pages = 0;
        for (RamBlock block : blocks) {
            pages += block.dirtyBitmap().dirtyPagesOr(softDirty(block));
        }
        return pages;
    }

    /** Bit 55 of each page's pagemap entry, as a bitmap. */
    private long[] softDirty(RamBlock block) {
        long[] words = new long[block.dirtyBitmap().wordCount()];
        long firstEntry = block.address() / RamBlock.PAGE_SIZE;
        long pages = block.pages();
        try {
            for (long page = 0; page < pages; ) {
                int count = (int) Math.min(ENTRIES, pages - page);
                buffer.clear().limit(count * Long.BYTES);
                long position = (firstEntry + page) * Long.BYTES;
                while (buffer.hasRemaining()) {
                    if (pagemap.read(buffer, position + buffer.position()) < 0) {
                        throw new IOException("short read of " + PAGEMAP);
                    }
                }
                LongBuffer entries = buffer.flip().asLongBuffer();
                for (int i = 0; i < count; i++) {
                    if ((entries.get(i) & PM_SOFT_DIRTY) != 0) {
                        long p = page + i;
                        words[(int) (p >>> 6)] |= 1L << (p & 63);
                    }
                }
                page += count;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading the soft-dirty bits of RAM block '" + block.name() + "'", e);
        }
        return words;
    }

    static void clearRefs() {
        try {
            Files.write(CLEAR_REFS, CLEAR_SOFT_DIRTY, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException("writing 4 to " + CLEAR_REFS, e);
        }
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                pagemap.close();
            } catch (IOException e) {
                System.getLogger(SoftDirtyTracker.class.getName()).log(System.Logger.Level.WARNING,
                        "closing " + PAGEMAP + " failed", e);
            }
        }
    }
}
