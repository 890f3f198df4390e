package io.livemig.transport.rdma.channel;

import io.livemig.transport.rdma.verbs.MemoryRegion;
import java.util.Objects;

/**
 * An outbound message that becomes one RDMA READ: {@code length} bytes at {@code remoteAddress} in the peer's region
 * named by {@code rkey} are copied to {@code offset} in a local region registered with local write access. The write
 * promise completes when the bytes are in local memory.
 *
 * @param local the registered target region (of this channel's protection domain)
 * @param offset the first byte in {@code local}
 * @param length the number of bytes
 * @param remoteAddress the peer's source address
 * @param rkey the peer's remote key
 */
public record RdmaRead(MemoryRegion local, long offset, int length, long remoteAddress, int rkey) {

    /** Validates the bounds. */
    public RdmaRead {
        Objects.requireNonNull(local, "local");
        checkBounds(local, offset, length);
    }

    static void checkBounds(MemoryRegion local, long offset, int length) {
        if (offset < 0 || length < 0 || offset + length > local.length()) {
            throw new IndexOutOfBoundsException("offset " + offset + " + length " + length + " exceeds the region of "
                    + local.length() + " bytes");
        }
    }
}
