package io.livemig.migration.stream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * A `migrate exec:cat > FILE` capture of QEMU 7.2 (scripts/capture-qemu-stream.sh), cut into its parts by
 * a reading independent of the decoder's: the test oracle. Knows only what the captures hold (configuration,
 * the ram section with PAGE and ZERO records, then the device tail).
 */
record QemuCapture(byte[] bytes, String machine, int ramSectionId, List<Block> blocks, List<Part> parts,
        int tailOffset, byte[] withoutPages) {

    record Block(String name, long length) {
    }

    /** A page record: {@code data} null for a ZERO record. */
    record Page(String block, long offset, byte[] data) {
    }

    /** A RAM section part: START (1), PART (2) or END (3), with its page records. */
    record Part(int type, List<Page> pages) {
    }

    byte[] tail() {
        return java.util.Arrays.copyOfRange(bytes, tailOffset, bytes.length);
    }

    static byte[] resource(String name) {
        try (InputStream in = new GZIPInputStream(QemuCapture.class.getResourceAsStream("qemu/" + name + ".gz"))) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static QemuCapture load(String name) {
        byte[] bytes = resource(name + ".stream");
        ByteBuffer in = ByteBuffer.wrap(bytes);
        ByteArrayOutputStream withoutPages = new ByteArrayOutputStream();
        check(in.getInt() == 0x5145564d && in.getInt() == 3 && in.get() == 7);
        String machine = string(in, in.getInt());
        List<Block> blocks = new ArrayList<>();
        List<Part> parts = new ArrayList<>();
        int ramId = -1;
        String last = null;
        while (true) {
            int start = in.position();
            int type = in.get();
            int id = in.getInt();
            if (type == 4) {
                in.position(start);
                break;
            }
            if (type == 1) {
                check(string(in, in.get()).equals("ram") && in.getInt() == 0 && in.getInt() == 4);
                ramId = id;
            }
            check(id == ramId);
            List<Page> pages = new ArrayList<>();
            int copiedUpTo = start;
            int recordStart = in.position();
            while (true) {
                long word = in.getLong();
                int flags = (int) (word & 0xfff);
                long address = word & ~0xfffL;
                if (flags == 0x04) {
                    for (long left = address; left > 0; ) {
                        Block block = new Block(string(in, in.get()), in.getLong());
                        blocks.add(block);
                        left -= block.length();
                    }
                } else if (flags == 0x10) {
                    break;
                } else {
                    if ((flags & 0x20) == 0) {
                        last = string(in, in.get());
                    }
                    byte[] data = null;
                    if ((flags & 0x08) != 0) {
                        data = new byte[4096];
                        in.get(data);
                    } else {
                        check((flags & 0x02) != 0 && in.get() == 0);
                    }
                    pages.add(new Page(last, address, data));
                    // Keep what precedes the record, drop the record.
                    withoutPages.write(bytes, copiedUpTo, recordStart - copiedUpTo);
                    copiedUpTo = in.position();
                }
                recordStart = in.position();
            }
            check(in.get() == 0x7e && in.getInt() == ramId);
            withoutPages.write(bytes, copiedUpTo, in.position() - copiedUpTo);
            parts.add(new Part(type, pages));
        }
        // Header and configuration, the RAM sections without their page records, the device tail.
        ByteArrayOutputStream result = new ByteArrayOutputStream();
        result.write(bytes, 0, 8 + 5 + machine.length());
        result.writeBytes(withoutPages.toByteArray());
        result.write(bytes, in.position(), bytes.length - in.position());
        return new QemuCapture(bytes, machine, ramId, List.copyOf(blocks), List.copyOf(parts), in.position(),
                result.toByteArray());
    }

    private static String string(ByteBuffer in, int length) {
        byte[] b = new byte[length];
        in.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    private static void check(boolean condition) {
        if (!condition) {
            throw new IllegalStateException("not the capture layout this oracle knows");
        }
    }
}
