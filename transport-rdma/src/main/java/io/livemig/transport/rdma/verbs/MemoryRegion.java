package io.livemig.transport.rdma.verbs;

import java.lang.foreign.MemorySegment;
import java.util.Set;

/**
 * A registered memory region ({@code struct ibv_mr}). The lkey names it in local scatter/gather elements, the
 * rkey in a peer's RDMA WRITE or READ.
 *
 * <p>{@link #deregister()} waits for any placement into the region that is in progress and makes every later
 * access through its keys fail (remotely with {@link WcStatus#REM_ACCESS_ERR}, locally with
 * {@link WcStatus#LOC_PROT_ERR}); once it returns, the provider never touches the memory again.
 */
public interface MemoryRegion extends AutoCloseable {

    /**
     * The first registered byte.
     *
     * @return the address
     */
    long address();

    /**
     * The registered length in bytes.
     *
     * @return the length
     */
    long length();

    /**
     * The local key.
     *
     * @return the lkey
     */
    int lkey();

    /**
     * The remote key.
     *
     * @return the rkey
     */
    int rkey();

    /**
     * The rights the region was registered with.
     *
     * @return the access flags
     */
    Set<AccessFlag> access();

    /**
     * The registered memory.
     *
     * @return a segment spanning exactly the region
     */
    MemorySegment segment();

    /**
     * Whether the region is still registered.
     *
     * @return {@code false} after {@link #deregister()}
     */
    boolean isRegistered();

    /** Deregisters the region ({@code ibv_dereg_mr}); idempotent, callable from any thread. */
    void deregister();

    /** Same as {@link #deregister()}. */
    @Override
    default void close() {
        deregister();
    }
}
