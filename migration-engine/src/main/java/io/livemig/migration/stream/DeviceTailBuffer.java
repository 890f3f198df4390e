package io.livemig.migration.stream;

import io.livemig.migration.protocol.ProtocolError;
import io.livemig.migration.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;

/**
 * Collects a device-state tail as it arrives and finds where it ends. The device sections carry no length
 * and the end-of-stream marker may be any byte of their bodies, so the end is where a VMDESCRIPTION ends:
 * a candidate is every {@code 00 06 <be32 n> {"page_size"} (JSON holds no NUL and QEMU writes page_size
 * first), and a candidate ends the tail when the description it carries walks every section before it
 * ({@link VmDescription#walk}). Candidates are tried in the order their ends arrive, so the outcome does
 * not depend on how the bytes are split; bytes after the end are ignored, as bytes after EOF are.
 */
final class DeviceTailBuffer {

    private static final int HEADER = 6;
    private static final int PATTERN = HEADER + VmDescription.PREFIX.length;

    private final String machine;
    private final String firstSection;
    private final long limit;
    private byte[] bytes = new byte[256];
    private int size;
    /** Offset up to which candidate starts were searched. */
    private int scanned;
    /** Ends of candidates not yet tried (an end is unique to its candidate). */
    private final TreeSet<Long> ends = new TreeSet<>();
    private ProtocolException lastFailure;
    private DeviceState complete;

    /**
     * @param machine the stream's machine name
     * @param firstSection the first device section's name, for messages
     * @param header the first device section's header bytes, already read
     * @param limit the largest tail accepted
     */
    DeviceTailBuffer(String machine, String firstSection, byte[] header, long limit) {
        this.machine = machine;
        this.firstSection = firstSection;
        this.limit = limit;
        append(header, 0, header.length);
    }

    /**
     * Takes every readable byte of {@code in}, then tries the candidates whose ends arrived.
     *
     * @return the device state once its end arrived, else null
     */
    DeviceState read(ByteBuf in) {
        int n = in.readableBytes();
        if (bytes.length - size < n) {
            grow(n);
        }
        in.readBytes(bytes, size, n);
        size += n;
        return scan();
    }

    private void append(byte[] b, int from, int n) {
        grow(n);
        System.arraycopy(b, from, bytes, size, n);
        size += n;
    }

    private void grow(int more) {
        long needed = (long) size + more;
        if (needed > limit) {
            throw new ProtocolException(ProtocolError.INVALID_FIELD, "device state from section '" + firstSection
                    + "' exceeds the limit of " + limit + " bytes");
        }
        if (needed > bytes.length) {
            bytes = Arrays.copyOf(bytes, (int) Math.min(Math.max(needed, 2L * bytes.length), limit));
        }
    }

    private DeviceState scan() {
        for (int p = Math.max(0, scanned); p + PATTERN <= size; p++) {
            if (bytes[p] == 0 && bytes[p + 1] == 6 && Arrays.equals(bytes, p + HEADER, p + PATTERN,
                    VmDescription.PREFIX, 0, VmDescription.PREFIX.length)) {
                long length = Integer.toUnsignedLong((bytes[p + 2] & 0xff) << 24 | (bytes[p + 3] & 0xff) << 16
                        | (bytes[p + 4] & 0xff) << 8 | bytes[p + 5] & 0xff);
                ends.add(p + HEADER + length);
            }
            scanned = p + 1;
        }
        while (!ends.isEmpty() && ends.first() <= size) {
            int end = (int) (long) ends.pollFirst();
            if (bytes[end - 1] != '}') {
                continue;
            }
            try {
                List<DeviceState.Section> sections = VmDescription.walk(bytes, end);
                complete = DeviceState.walked(machine, Arrays.copyOf(bytes, end), sections);
                bytes = null;
                return complete;
            } catch (ProtocolException e) {
                lastFailure = e;
            }
        }
        return null;
    }

    /**
     * The error for a stream that ended before the tail did.
     *
     * @return why the last candidate failed, or that the tail is cut off
     */
    ProtocolException truncated() {
        if (lastFailure != null) {
            return lastFailure;
        }
        return new ProtocolException(ProtocolError.TRUNCATED, "device state from section '" + firstSection
                + "' is truncated: the stream ended after " + size + " bytes, before its EOF and VMDESCRIPTION");
    }
}
