package io.livemig.transport.rdma.verbs;

/**
 * The limits of an opened device (a subset of {@code struct ibv_device_attr} plus the rdma_cm private-data limit).
 *
 * @param maxMrSize largest memory region in bytes ({@code max_mr_size})
 * @param maxQpWr largest number of outstanding work requests per work queue ({@code max_qp_wr})
 * @param maxSge largest scatter/gather list per work request ({@code max_sge})
 * @param maxCqe largest completion queue ({@code max_cqe})
 * @param maxInlineData largest inline payload of one send work request
 * @param maxPrivateData largest private data of an RC connect request (56 bytes in the IB CM REQ)
 */
public record DeviceAttributes(long maxMrSize, int maxQpWr, int maxSge, int maxCqe, int maxInlineData,
                               int maxPrivateData) {
}
