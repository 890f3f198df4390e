package io.livemig.cli;

import io.livemig.migration.ram.RamBlock;
import io.livemig.migration.ram.RamBlocks;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.stream.LongStream;

/**
 * {@code --fill}: what the RAM holds before the migration starts. Filling writes the memory directly,
 * without marking pages dirty: the bulk round sends every page anyway.
 */
enum RamFill {
    /** Pseudo-random longs (a SplitMix64 of each long's index): nothing compresses. */
    RANDOM,
    /** Zeros: every page goes as COMPRESS. */
    ZERO,
    /** Each long holds its own offset in the block: recognisable in a hex dump. */
    PATTERN,
    /**
     * Nothing written: a {@code --ram-file} block is sent as its file holds it (a QEMU memory-backend-file, or what a
     * livemig destination received), other blocks as allocated (zero).
     */
    KEEP;

    /** Bytes each fill task covers: large enough to amortise the fork, small enough to spread over cores. */
    private static final long SLICE = 16L << 20;

    /**
     * Fills every block, in parallel slices.
     *
     * @param blocks the blocks
     */
    void fill(RamBlocks blocks) {
        if (this == KEEP) {
            return;
        }
        for (RamBlock block : blocks) {
            MemorySegment memory = block.memory();
            long slices = (memory.byteSize() + SLICE - 1) / SLICE;
            LongStream.range(0, slices).parallel().forEach(slice -> {
                long from = slice * SLICE;
                fill(memory.asSlice(from, Math.min(SLICE, memory.byteSize() - from)), from);
            });
        }
    }

    private void fill(MemorySegment slice, long base) {
        switch (this) {
            case ZERO -> slice.fill((byte) 0);
            case PATTERN -> {
                for (long i = 0; i < slice.byteSize(); i += Long.BYTES) {
                    slice.set(ValueLayout.JAVA_LONG_UNALIGNED, i, base + i);
                }
            }
            case KEEP -> {
            }
            case RANDOM -> {
                for (long i = 0; i < slice.byteSize(); i += Long.BYTES) {
                    slice.set(ValueLayout.JAVA_LONG_UNALIGNED, i, mix(base + i));
                }
            }
        }
    }

    /** SplitMix64's finaliser: a bijection that makes neighbouring indexes look unrelated. */
    static long mix(long index) {
        long z = index * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
