package io.livemig.migration.protocol;

import io.netty.buffer.ByteBuf;

/**
 * The tokens of QEMU's RAM section ({@code ram.c}) that the RDMA path uses (spec section 8.3). In RDMA
 * mode the RAM section carries no page data: only the MEM_SIZE header with the block list, HOOK
 * markers (an RDMA control phase follows) and EOS.
 *
 * <p>Each token is a big-endian u64 whose low bits (below the 4 KiB target page) hold flags and whose
 * high bits hold an address or, for MEM_SIZE, the total RAM size.
 */
public final class RamStream {

    /** Flag: a page whose bytes all equal the one byte that follows ({@code RAM_SAVE_FLAG_ZERO}; exec/TCP mode). */
    public static final int FLAG_ZERO = 0x02;
    /** Flag: the word's high bits are the total RAM size and the block list follows. */
    public static final int FLAG_MEM_SIZE = 0x04;
    /** Flag: a whole page of {@link #TARGET_PAGE_SIZE} bytes follows ({@code RAM_SAVE_FLAG_PAGE}; exec/TCP mode). */
    public static final int FLAG_PAGE = 0x08;
    /** Flag: end of this RAM section part. */
    public static final int FLAG_EOS = 0x10;
    /**
     * Flag on a page record: same block as the previous record, so no {@code u8 len, idstr} follows
     * ({@code RAM_SAVE_FLAG_CONTINUE}; the previous block carries over from one section part to the next).
     */
    public static final int FLAG_CONTINUE = 0x20;
    /** Flag: an RDMA control phase (registration loop) follows ({@code RAM_SAVE_FLAG_HOOK}). */
    public static final int FLAG_HOOK = 0x80;
    /** Target page size the flag bits live below (x86 TARGET_PAGE_BITS = 12). */
    public static final int TARGET_PAGE_SIZE = 4096;

    private static final long FLAG_MASK = TARGET_PAGE_SIZE - 1;

    private RamStream() {
    }

    /**
     * Writes the HOOK marker {@code 00 00 00 00 00 00 00 80}.
     *
     * @param out the stream
     */
    public static void writeHook(ByteBuf out) {
        out.writeLong(FLAG_HOOK);
    }

    /**
     * Writes the EOS marker {@code 00 00 00 00 00 00 00 10}.
     *
     * @param out the stream
     */
    public static void writeEos(ByteBuf out) {
        out.writeLong(FLAG_EOS);
    }

    /**
     * Writes the MEM_SIZE word {@code total | 0x04} that starts the setup RAM section.
     *
     * @param out the stream
     * @param totalRamBytes the sum of every block's used length; a whole number of target pages
     */
    public static void writeMemSize(ByteBuf out, long totalRamBytes) {
        if (totalRamBytes < 0 || (totalRamBytes & FLAG_MASK) != 0) {
            throw new IllegalArgumentException("total RAM size " + totalRamBytes + " is not a whole number of "
                    + TARGET_PAGE_SIZE + "-byte pages");
        }
        out.writeLong(totalRamBytes | FLAG_MEM_SIZE);
    }

    /**
     * Reads the next token word.
     *
     * @param in the stream
     * @return the word split into address and flags
     * @throws ProtocolException ({@link ProtocolError#TRUNCATED}) with fewer than 8 bytes
     */
    public static Word readWord(ByteBuf in) {
        Wire.requireReadable(in, Long.BYTES, "RAM section word");
        long word = in.readLong();
        return new Word(word & ~FLAG_MASK, (int) (word & FLAG_MASK));
    }

    /**
     * A RAM section word: {@code address | flags}.
     *
     * @param address the high bits (total size for MEM_SIZE, a page address otherwise)
     * @param flags the low 12 bits
     */
    public record Word(long address, int flags) {

        /**
         * Whether a flag is set.
         *
         * @param flag one of the {@code FLAG_} constants
         * @return true if set
         */
        public boolean has(int flag) {
            return (flags & flag) != 0;
        }
    }
}
