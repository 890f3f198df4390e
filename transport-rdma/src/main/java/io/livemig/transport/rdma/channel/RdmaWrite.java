package io.livemig.transport.rdma.channel;

import io.livemig.transport.rdma.verbs.MemoryRegion;
import java.util.Objects;

/**
 * An outbound message that becomes one RDMA WRITE: {@code length} bytes at {@code offset} in a region registered
 * through {@link RdmaChannel#registerMemory} are placed at {@code remoteAddress} in the peer's region named by
 * {@code rkey}. The write promise completes when the work completion arrives, which on a reliable connection means
 * the bytes are placed; a SEND written after it is delivered after them. With immediate data the peer consumes one
 * receive and reads an {@link RdmaImmediate}.
 *
 * @param local the registered source region (of this channel's protection domain)
 * @param offset the first byte in {@code local}
 * @param length the number of bytes
 * @param remoteAddress the peer's target address
 * @param rkey the peer's remote key
 * @param immediate the immediate data, or {@code null} for a plain write
 */
public record RdmaWrite(MemoryRegion local, long offset, int length, long remoteAddress, int rkey, Integer immediate) {

    /** Validates the bounds. */
    public RdmaWrite {
        Objects.requireNonNull(local, "local");
        RdmaRead.checkBounds(local, offset, length);
    }

    /**
     * A plain RDMA WRITE.
     *
     * @param local the registered source region
     * @param offset the first byte in {@code local}
     * @param length the number of bytes
     * @param remoteAddress the peer's target address
     * @param rkey the peer's remote key
     * @return the message
     */
    public static RdmaWrite of(MemoryRegion local, long offset, int length, long remoteAddress, int rkey) {
        return new RdmaWrite(local, offset, length, remoteAddress, rkey, null);
    }

    /**
     * An RDMA WRITE with immediate data.
     *
     * @param local the registered source region
     * @param offset the first byte in {@code local}
     * @param length the number of bytes
     * @param remoteAddress the peer's target address
     * @param rkey the peer's remote key
     * @param immediate the 32 bits the peer reads as an {@link RdmaImmediate}
     * @return the message
     */
    public static RdmaWrite withImmediate(MemoryRegion local, long offset, int length, long remoteAddress, int rkey,
                                          int immediate) {
        return new RdmaWrite(local, offset, length, remoteAddress, rkey, immediate);
    }
}
