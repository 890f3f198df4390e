package io.livemig.transport.rdma.verbs;

import java.lang.foreign.MemorySegment;
import java.util.Set;

/**
 * A protection domain ({@code struct ibv_pd}): memory regions and queue pairs of one domain may be used together,
 * and an rkey is only honoured for a queue pair of the domain that registered it.
 */
public interface ProtectionDomain extends AutoCloseable {

    /**
     * Registers native memory ({@code ibv_reg_mr}). The segment must stay alive until the region is deregistered;
     * the region does not own it.
     *
     * @param memory a native segment of any size up to {@link DeviceAttributes#maxMrSize()}
     * @param access the rights granted; local read is implied
     * @return the new region
     * @throws VerbsException when the segment is not native, is empty or too large, the flags are inconsistent
     *         ({@code REMOTE_WRITE} without {@code LOCAL_WRITE}) or the domain is closed
     */
    MemoryRegion register(MemorySegment memory, Set<AccessFlag> access) throws VerbsException;

    /**
     * Registers native memory given by address and 64-bit length.
     *
     * @param address the first byte
     * @param length the number of bytes
     * @param access the rights granted; local read is implied
     * @return the new region
     * @throws VerbsException as for {@link #register(MemorySegment, Set)}
     */
    MemoryRegion register(long address, long length, Set<AccessFlag> access) throws VerbsException;

    /** Deregisters every region still registered and frees the domain; idempotent, callable from any thread. */
    @Override
    void close();
}
