package io.livemig.migration.ram;

import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.transport.rdma.unix.AnonymousMemory;
import io.livemig.transport.rdma.unix.NativeIoException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A named RAM block: page-aligned native memory, contiguous in virtual memory (remote addresses are the
 * base plus an offset), of any size, placed at {@link #offset()} in the migration's RAM address space
 * (QEMU's {@code ram_addr_t}), with a {@link DirtyBitmap} at 4 KiB page granularity.
 *
 * <p>A block either owns its memory ({@link #allocate}, {@link #mapFile}) and frees it on {@link #close()},
 * or wraps memory the application owns ({@link #wrap}), which {@code close()} leaves alone.
 *
 * <p>Writes through {@link #write}, {@link #fill} and {@link #putLong} mark the pages they touch; an
 * application that writes {@link #memory()} directly marks them itself with
 * {@code dirtyBitmap().markRange(...)}, after writing (see {@link DirtyBitmap}).
 */
public final class RamBlock implements AutoCloseable {

    /** Target page size: the dirty-tracking and COMPRESS granularity (x86 TARGET_PAGE_SIZE). */
    public static final long PAGE_SIZE = 4096;

    private final String name;
    private final MemorySegment memory;
    private final long offset;
    private final DirtyBitmap dirty;
    private final AutoCloseable owner;
    private final AtomicBoolean closed = new AtomicBoolean();

    private RamBlock(String name, MemorySegment memory, long offset, AutoCloseable owner) {
        this.name = name;
        this.memory = memory;
        this.offset = offset;
        this.dirty = new DirtyBitmap(memory.byteSize() / PAGE_SIZE);
        this.owner = owner;
    }

    /**
     * Allocates a zero-filled block (an anonymous mapping: pages are committed on first touch).
     *
     * @param name the block's name (QEMU's idstr), 1 to 255 bytes of UTF-8
     * @param usedLength bytes, a positive multiple of {@link #PAGE_SIZE}
     * @param offset where the block sits in the RAM address space
     * @return the block, owning its memory
     * @throws UncheckedIOException if the memory cannot be mapped
     */
    public static RamBlock allocate(String name, long usedLength, long offset) {
        checkShape(name, usedLength, offset);
        AnonymousMemory mapping;
        try {
            mapping = AnonymousMemory.map(usedLength);
        } catch (NativeIoException e) {
            throw new UncheckedIOException("cannot allocate RAM block '" + name + "' of " + usedLength + " bytes", e);
        }
        // As QEMU does for guest RAM: transparent huge pages make the first touch of each 2 MiB one fault
        // instead of 512 (the destination's incoming writes are mostly first touches). A hint only.
        mapping.adviseHugePages();
        return new RamBlock(name, mapping.segment().asSlice(0, usedLength), offset, mapping);
    }

    /**
     * Commits every page of the block now instead of on first touch (QEMU's {@code -mem-prealloc}), in
     * 64 MiB slices on the common fork-join pool: a destination that does this before RAM BLOCKS RESULT takes
     * no page faults on its receive path. Only anonymous memory livemig allocated is populated; wrapped and
     * file-backed memory is the application's and is left as it is.
     */
    public void populate() {
        if (!(owner instanceof AnonymousMemory mapping)) {
            return;
        }
        long slice = 64L << 20;
        long slices = (usedLength() + slice - 1) / slice;
        java.util.stream.LongStream.range(0, slices).parallel().forEach(i -> {
            long from = i * slice;
            mapping.populate(from, Math.min(slice, usedLength() - from));
        });
    }

    /**
     * Wraps memory the application owns; {@link #close()} does not free it.
     *
     * @param name the block's name
     * @param memory page-aligned memory whose size is a positive multiple of {@link #PAGE_SIZE}
     * @param offset where the block sits in the RAM address space
     * @return the block
     */
    public static RamBlock wrap(String name, MemorySegment memory, long offset) {
        Objects.requireNonNull(memory, "memory");
        checkShape(name, memory.byteSize(), offset);
        if (!memory.isNative() || memory.address() % PAGE_SIZE != 0) {
            throw new IllegalArgumentException("RAM block '" + name + "' must be page-aligned native memory");
        }
        if (memory.isReadOnly()) {
            throw new IllegalArgumentException("RAM block '" + name + "' must be writable");
        }
        return new RamBlock(name, memory, offset, null);
    }

    /**
     * Backs a block with a shared mapping of a file (for example under /dev/shm or hugetlbfs), creating
     * the file and setting its size when {@code create} is true and it is missing or shorter. Writes go
     * to the file, so the memory can be inspected after the process ends.
     *
     * @param name the block's name
     * @param file the file to map
     * @param usedLength bytes, a positive multiple of {@link #PAGE_SIZE}
     * @param offset where the block sits in the RAM address space
     * @param create whether to create or extend the file
     * @return the block, owning the mapping
     * @throws UncheckedIOException if the file cannot be opened, sized or mapped
     */
    public static RamBlock mapFile(String name, Path file, long usedLength, long offset, boolean create) {
        checkShape(name, usedLength, offset);
        Arena arena = Arena.ofShared();
        boolean success = false;
        try (FileChannel channel = create
                ? FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE, StandardOpenOption.CREATE)
                : FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = channel.size();
            if (size < usedLength) {
                if (!create) {
                    throw new IOException("file " + file + " holds " + size + " bytes, less than the " + usedLength
                            + " bytes of RAM block '" + name + "'");
                }
                // Sparse: setting the size by writing the last byte does not allocate the rest.
                channel.write(java.nio.ByteBuffer.wrap(new byte[1]), usedLength - 1);
            }
            MemorySegment memory = channel.map(FileChannel.MapMode.READ_WRITE, 0, usedLength, arena);
            success = true;
            return new RamBlock(name, memory, offset, arena::close);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot map RAM block '" + name + "' from " + file + ": " + e.getMessage(),
                    e);
        } finally {
            if (!success) {
                // A file we could not map is left as it is: it may hold the application's data.
                arena.close();
            }
        }
    }

    private static void checkShape(String name, long usedLength, long offset) {
        new BlockListEntry(name, Math.max(usedLength, 0)); // validates the name as the stream needs it
        if (usedLength <= 0 || usedLength % PAGE_SIZE != 0) {
            throw new IllegalArgumentException("RAM block '" + name + "': used length " + usedLength
                    + " is not a positive whole number of " + PAGE_SIZE + "-byte pages");
        }
        if (offset < 0 || offset % PAGE_SIZE != 0) {
            throw new IllegalArgumentException("RAM block '" + name + "': offset " + offset
                    + " is not a non-negative multiple of " + PAGE_SIZE);
        }
    }

    /**
     * The block's name, matched by the destination.
     *
     * @return the idstr
     */
    public String name() {
        return name;
    }

    /**
     * Bytes migrated.
     *
     * @return the used length
     */
    public long usedLength() {
        return memory.byteSize();
    }

    /**
     * The block's place in the RAM address space.
     *
     * @return the offset
     */
    public long offset() {
        return offset;
    }

    /**
     * Virtual address of the first byte (RDMA WRITE targets are this plus an offset).
     *
     * @return the base address
     */
    public long address() {
        return memory.address();
    }

    /**
     * The memory, for direct access. Mark what you write in {@link #dirtyBitmap()}.
     *
     * @return the segment of {@link #usedLength()} bytes
     */
    public MemorySegment memory() {
        return memory;
    }

    /**
     * Pages in the block.
     *
     * @return {@code usedLength / PAGE_SIZE}
     */
    public long pages() {
        return memory.byteSize() / PAGE_SIZE;
    }

    /**
     * The block's dirty pages.
     *
     * @return the bitmap
     */
    public DirtyBitmap dirtyBitmap() {
        return dirty;
    }

    /**
     * Copies {@code source} into the block at {@code offsetInBlock}, then marks the pages dirty.
     *
     * @param offsetInBlock where to write
     * @param source the bytes
     */
    public void write(long offsetInBlock, MemorySegment source) {
        MemorySegment.copy(source, 0, memory, offsetInBlock, source.byteSize());
        dirty.markRange(offsetInBlock, source.byteSize());
    }

    /**
     * Fills a range with one byte value, then marks the pages dirty.
     *
     * @param offsetInBlock where to start
     * @param length bytes
     * @param value the byte
     */
    public void fill(long offsetInBlock, long length, byte value) {
        memory.asSlice(offsetInBlock, length).fill(value);
        dirty.markRange(offsetInBlock, length);
    }

    /**
     * Writes a native-order long at {@code offsetInBlock}, then marks its page(s).
     *
     * @param offsetInBlock where to write (any alignment)
     * @param value the value
     */
    public void putLong(long offsetInBlock, long value) {
        memory.set(ValueLayout.JAVA_LONG_UNALIGNED, offsetInBlock, value);
        dirty.markRange(offsetInBlock, Long.BYTES);
    }

    /**
     * Whether the block's memory is owned and freed by {@link #close()}.
     *
     * @return false for {@link #wrap wrapped} memory
     */
    public boolean ownsMemory() {
        return owner != null;
    }

    /** Frees owned memory (idempotent, any thread); wrapped memory stays the application's. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true) && owner != null) {
            try {
                owner.close();
            } catch (Exception e) {
                System.getLogger(RamBlock.class.getName()).log(System.Logger.Level.WARNING,
                        "freeing RAM block '" + name + "' failed", e);
            }
        }
    }

    @Override
    public String toString() {
        return "RamBlock[" + name + ", " + usedLength() + " bytes at offset 0x" + Long.toHexString(offset) + "]";
    }
}
