package io.livemig.migration.source;

import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.Set;
import reactor.core.publisher.Mono;

/**
 * What the source needs from the connection for its pages: local memory registration and one-sided
 * RDMA WRITEs. The Netty {@code RdmaChannel} provides both; the engine sees only this.
 */
public interface RdmaDataPath {

    /**
     * Registers local memory (for the lkey of writes from it).
     *
     * @param memory the range
     * @param access access flags
     * @return the region, owned by the caller
     * @throws IOException if registration fails
     */
    MemoryRegion register(MemorySegment memory, Set<AccessFlag> access) throws IOException;

    /**
     * Posts one signalled RDMA WRITE; completes when its work completion arrives, which on a reliable
     * connection means the bytes are placed in the destination's memory.
     *
     * @param local the registered source region
     * @param offset first byte inside {@code local}
     * @param length bytes, at most one chunk
     * @param remoteAddress target address at the destination
     * @param rkey the destination's key for the target
     * @return completes on the work completion, fails with its status: with a {@link WriteRefusedException} when
     *     the destination's adapter refused the access (remote access error)
     */
    Mono<Void> write(MemoryRegion local, long offset, int length, long remoteAddress, int rkey);

    /**
     * Posts one signalled RDMA WRITE, as {@link #write(MemoryRegion, long, int, long, int)}, on the channel that
     * {@code stripe} picks when the path has several ({@code multifd}); a path with one channel ignores it.
     *
     * @param local the registered source region
     * @param offset first byte inside {@code local}
     * @param length bytes, at most one chunk
     * @param remoteAddress target address at the destination
     * @param rkey the destination's key for the target
     * @param stripe picks the channel (the chunk's index), modulo the channel count
     * @return as {@link #write(MemoryRegion, long, int, long, int)}
     */
    default Mono<Void> write(MemoryRegion local, long offset, int length, long remoteAddress, int rkey, long stripe) {
        return write(local, offset, length, remoteAddress, rkey);
    }

    /**
     * Whether {@link #register} pins the pages (a real adapter's provider does; see
     * {@code DeviceContext.pinsRegisteredMemory}). The source then leaves soft-dirty tracking out of {@code auto}:
     * the kernel never clears the soft-dirty bit of a pinned page.
     *
     * @return {@code true} unless the path knows its registrations pin nothing
     */
    default boolean pinsMemory() {
        return true;
    }
}
