package io.livemig.migration.verify;

import io.livemig.migration.protocol.Chunks;
import io.livemig.migration.ram.RamBlock;
import io.livemig.migration.ram.RamBlocks;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;
import java.util.zip.CRC32C;

/**
 * {@code x-verify}, a livemig extension: a CRC32C of every 1 MiB chunk of every block, computed by the
 * source after its final dirty sync (the application is paused, so memory is final), sent as the
 * {@value #SECTION} section of the non-live state, and checked by the destination after the final
 * round. CRC32C is hardware-accelerated in {@link CRC32C}; chunks are summed in parallel.
 *
 * <p>Section layout (big-endian, like the rest of the stream): u32 block count, then per block: u8 name
 * length, name bytes, u64 used length, u32 chunk count, one u32 CRC per chunk.
 *
 * @param blocks one entry per block, in block order
 */
public record ChunkChecksums(List<BlockSums> blocks) {

    /** Name of the non-live section that carries the checksums. */
    public static final String SECTION = "livemig-verify";

    /**
     * The checksums of one block.
     *
     * @param name the block's name
     * @param usedLength its length
     * @param crcs one CRC32C per 1 MiB chunk
     */
    public record BlockSums(String name, long usedLength, int[] crcs) {
    }

    /**
     * Where the destination's memory first differs.
     *
     * @param block the block's name
     * @param offset the first byte of the first differing chunk, within the block
     */
    public record Mismatch(String block, long offset) {
        @Override
        public String toString() {
            return "x-verify: memory differs from the source in block '" + block + "' in the chunk at offset 0x"
                    + Long.toHexString(offset);
        }
    }

    /**
     * Computes the checksums of every chunk of every block, in parallel.
     *
     * @param ram the blocks
     * @return the checksums
     */
    public static ChunkChecksums compute(RamBlocks ram) {
        List<BlockSums> sums = new ArrayList<>();
        for (RamBlock block : ram) {
            sums.add(new BlockSums(block.name(), block.usedLength(), crcs(block)));
        }
        return new ChunkChecksums(List.copyOf(sums));
    }

    private static int[] crcs(RamBlock block) {
        int count = Math.toIntExact(Chunks.count(block.usedLength()));
        int[] crcs = new int[count];
        MemorySegment memory = block.memory();
        IntStream.range(0, count).parallel().forEach(chunk -> crcs[chunk] = crc(memory, block.usedLength(), chunk));
        return crcs;
    }

    private static int crc(MemorySegment memory, long length, long chunk) {
        long start = Chunks.start(0, chunk);
        long end = Chunks.end(0, length, chunk);
        ByteBuffer range = memory.asSlice(start, end - start).asByteBuffer();
        CRC32C crc = new CRC32C();
        crc.update(range);
        return (int) crc.getValue();
    }

    /**
     * The section's bytes.
     *
     * @return the encoded checksums
     */
    public byte[] encode() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(blocks.size());
            for (BlockSums block : blocks) {
                byte[] name = block.name().getBytes(StandardCharsets.UTF_8);
                out.writeByte(name.length);
                out.write(name);
                out.writeLong(block.usedLength());
                out.writeInt(block.crcs().length);
                for (int crc : block.crcs()) {
                    out.writeInt(crc);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * Reads a section.
     *
     * @param section the bytes
     * @return the checksums
     * @throws IOException if the section is malformed
     */
    public static ChunkChecksums decode(byte[] section) throws IOException {
        try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(section))) {
            int count = in.readInt();
            if (count < 0 || count > 65536) {
                throw new IOException("x-verify section: bad block count " + count);
            }
            List<BlockSums> blocks = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                byte[] name = in.readNBytes(in.readUnsignedByte());
                long used = in.readLong();
                int chunks = in.readInt();
                if (used < 0 || chunks != Chunks.count(used)) {
                    throw new IOException("x-verify section: block of " + used + " bytes with " + chunks + " chunks");
                }
                int[] crcs = new int[chunks];
                for (int c = 0; c < chunks; c++) {
                    crcs[c] = in.readInt();
                }
                blocks.add(new BlockSums(new String(name, StandardCharsets.UTF_8), used, crcs));
            }
            if (in.available() > 0) {
                throw new IOException("x-verify section: " + in.available() + " trailing bytes");
            }
            return new ChunkChecksums(List.copyOf(blocks));
        } catch (java.io.EOFException e) {
            throw new IOException("x-verify section is truncated", e);
        }
    }

    /**
     * Checks memory against these checksums.
     *
     * @param ram the destination's blocks, in the source's order
     * @return the first differing chunk, or empty when everything matches
     */
    public Optional<Mismatch> check(RamBlocks ram) {
        if (ram.size() != blocks.size()) {
            return Optional.of(new Mismatch("(block count " + ram.size() + " != " + blocks.size() + ")", 0));
        }
        for (int i = 0; i < blocks.size(); i++) {
            BlockSums expected = blocks.get(i);
            RamBlock block = ram.get(i);
            if (!block.name().equals(expected.name()) || block.usedLength() != expected.usedLength()) {
                return Optional.of(new Mismatch(expected.name(), 0));
            }
            int[] actual = crcs(block);
            for (int c = 0; c < actual.length; c++) {
                if (actual[c] != expected.crcs()[c]) {
                    return Optional.of(new Mismatch(block.name(), Chunks.start(0, c)));
                }
            }
        }
        return Optional.empty();
    }
}
