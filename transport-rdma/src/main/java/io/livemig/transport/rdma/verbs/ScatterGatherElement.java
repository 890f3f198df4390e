package io.livemig.transport.rdma.verbs;

/**
 * One scatter/gather element ({@code struct ibv_sge}): a range inside a registered region, named by its lkey.
 *
 * @param address the first byte
 * @param length the number of bytes ({@code uint32_t})
 * @param lkey the local key of the region containing the range
 */
public record ScatterGatherElement(long address, int length, int lkey) {

    /**
     * An element spanning part of a region.
     *
     * @param region the region
     * @param offset the offset inside the region
     * @param length the number of bytes
     * @return the element
     */
    public static ScatterGatherElement of(MemoryRegion region, long offset, int length) {
        return new ScatterGatherElement(region.address() + offset, length, region.lkey());
    }

    /**
     * The element's length as an unsigned 32-bit value.
     *
     * @return the length in bytes
     */
    public long unsignedLength() {
        return Integer.toUnsignedLong(length);
    }
}
