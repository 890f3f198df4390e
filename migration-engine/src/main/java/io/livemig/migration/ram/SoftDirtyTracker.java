package io.livemig.migration.ram;

import io.livemig.transport.rdma.unix.Libc;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
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
 * a page first written after its entry was read and before the clear is missed unless it is written again. Hence
 * {@link #atomicHarvest()} is false: the engine holds the application's writes around each harvest when the
 * application can ({@code Workload.holdWrites}), and warns when it cannot. This is also why
 * {@link DirtyTrackingMode#AUTO} prefers {@link DirtyTrackingMode#UFFD_WP}.
 *
 * <p><b>Huge pages.</b> A transparent huge page has one soft-dirty bit, in its PMD: a write of 8 bytes reports all
 * 512 of its pages (measured in the lab's Linux 6.1 guest, where THP is {@code always} and {@link RamBlock#allocate}
 * asks for huge pages), so a workload writing a few random pages dirties whole blocks every round and never
 * converges. The tracker therefore turns huge pages off for its blocks ({@code MADV_NOHUGEPAGE}: no new ones from
 * faults or khugepaged) and splits the ones already there into 4 KiB mappings with {@code MADV_COLD} on one page of
 * each 2 MiB (a partial range makes the kernel split the huge page; the data stays, the pages only move to the
 * inactive list; the split carries the soft-dirty bit to every page). A huge page the kernel will not split (pinned,
 * shared with a fork) keeps being reported whole: more pages sent, none missed.
 */
final class SoftDirtyTracker implements DirtyTracker {

    /** Bit 55 of a pagemap entry: the page's soft-dirty bit. */
    static final long PM_SOFT_DIRTY = 1L << 55;
    /** {@code CLEAR_REFS_SOFT_DIRTY} of fs/proc/task_mmu.c. */
    static final byte[] CLEAR_SOFT_DIRTY = "4".getBytes(StandardCharsets.US_ASCII);
    static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");
    static final Path PAGEMAP = Path.of("/proc/self/pagemap");
    /** The size of a PMD-mapped transparent huge page (x86-64, and aarch64 with 4 KiB pages). */
    private static final long HUGE_PAGE = 2L << 20;
    private static final System.Logger LOG = System.getLogger(SoftDirtyTracker.class.getName());
    /** Pagemap entries read per {@code pread}: 512 KiB. */
    private static final int ENTRIES = 64 * 1024;

    private final RamBlocks blocks;
    private final String reason;
    private final FileChannel pagemap;
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(ENTRIES * Long.BYTES).order(ByteOrder.nativeOrder());
    private final AtomicBoolean closed = new AtomicBoolean();
    /**
     * Visible only for testing: run by each {@link #syncAndClear()} after it read every block and before its clear,
     * where a write lands in the race the class comment describes.
     */
    static volatile Runnable betweenReadAndClear;

    SoftDirtyTracker(RamBlocks blocks, String reason) throws IOException {
        this.blocks = blocks;
        this.reason = reason;
        this.pagemap = FileChannel.open(PAGEMAP, StandardOpenOption.READ);
        for (RamBlock block : blocks) {
            useSmallPages(block);
        }
    }

    /** {@code MADV_NOHUGEPAGE} on the block, then a split of each huge page it has (see the class comment). */
    private static void useSmallPages(RamBlock block) {
        long start = block.address();
        long length = (block.usedLength() + RamBlock.PAGE_SIZE - 1) & -RamBlock.PAGE_SIZE;
        try (Arena scratch = Arena.ofConfined()) {
            MemorySegment state = Libc.allocateErrnoState(scratch);
            if (Libc.madvise(state, start, length, Libc.MADV_NOHUGEPAGE) != 0) {
                // Precision only: soft-dirty then reports huge pages whole.
                LOG.log(System.Logger.Level.DEBUG, "madvise(MADV_NOHUGEPAGE) of RAM block '" + block.name()
                        + "': errno " + Libc.errno(state));
                return;
            }
            // One page in every 2 MiB the block touches, the partly covered ones at its ends included (a merged
            // neighbour mapping can put a huge page across the block's edge).
            for (long huge = start & -HUGE_PAGE; huge < start + length; huge += HUGE_PAGE) {
                long page = Math.max(huge, start);
                if (Libc.madvise(state, page, RamBlock.PAGE_SIZE, Libc.MADV_COLD) != 0) {
                    LOG.log(System.Logger.Level.DEBUG, "madvise(MADV_COLD) in RAM block '" + block.name()
                            + "': errno " + Libc.errno(state) + " (before Linux 5.4); huge pages stay");
                    return;
                }
            }
        }
    }

    @Override
    public DirtyTrackingMode mode() {
        return DirtyTrackingMode.SOFT_DIRTY;
    }

    @Override
    public String reason() {
        return reason;
    }

    /** A read of every block, then one clear: a write in between is in no snapshot (class comment). */
    @Override
    public boolean atomicHarvest() {
        return false;
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
        Runnable hook = betweenReadAndClear;
        if (hook != null) {
            hook.run();
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
                LOG.log(System.Logger.Level.WARNING,
                        "closing " + PAGEMAP + " failed", e);
            }
        }
    }
}
