package io.livemig.migration.source;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Zero detection for COMPRESS: a range is sent as COMPRESS instead of written only when its chunk is
 * not yet registered remotely and the whole merged range is zero (spec section 6.2).
 */
public final class ZeroRanges {

    /** One chunk of zeros to compare against; {@code MemorySegment.mismatch} vectorises the comparison. */
    private static final MemorySegment ZEROS = Arena.global().allocate(1 << 20, 4096);

    private ZeroRanges() {
    }

    /**
     * Whether every byte of {@code range} is zero.
     *
     * @param range memory to test, at most one chunk long
     * @return true if all zero
     */
    public static boolean isZero(MemorySegment range) {
        long size = range.byteSize();
        if (size > ZEROS.byteSize()) {
            for (long offset = 0; offset < size; offset += ZEROS.byteSize()) {
                if (!isZero(range.asSlice(offset, Math.min(ZEROS.byteSize(), size - offset)))) {
                    return false;
                }
            }
            return true;
        }
        return range.mismatch(ZEROS.asSlice(0, size)) == -1;
    }
}
