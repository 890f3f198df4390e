package io.livemig.migration.connection;

import io.livemig.migration.control.DestinationControl;
import io.livemig.migration.destination.ChunkRegistrations;
import io.livemig.migration.protocol.Capabilities;
import io.livemig.transport.rdma.channel.RdmaChannel;
import java.util.concurrent.TimeUnit;

/**
 * One accepted migration connection at the destination.
 *
 * @param channel the connection
 * @param control the destination's control endpoint in its pipeline
 * @param capabilities what was negotiated (the destination follows the source)
 */
public record DestinationConnection(RdmaChannel channel, DestinationControl control, Capabilities capabilities)
        implements AutoCloseable {

    /**
     * Registers destination memory in this connection's protection domain.
     *
     * @return the registrar for {@link ChunkRegistrations}
     */
    public ChunkRegistrations.Registrar registrar() {
        return channel::registerMemory;
    }

    /** Disconnects (idempotent); the channel releases its registrations. Blocks: not on an event loop. */
    @Override
    public void close() {
        channel.close().awaitUninterruptibly(10, TimeUnit.SECONDS);
    }

    /**
     * Disconnects without blocking (idempotent).
     *
     * @return completes when the channel is closed
     */
    public reactor.core.publisher.Mono<Void> closing() {
        // Bounded as the blocking close() is: over a link cut without a reset the flush of posted requests
        // may never come, and a failed migration must still end.
        return reactor.core.publisher.Mono.<Void>create(sink -> channel.close().addListener(f -> sink.success()))
                .timeout(java.time.Duration.ofSeconds(10), reactor.core.scheduler.Schedulers.parallel())
                .onErrorResume(java.util.concurrent.TimeoutException.class, e -> reactor.core.publisher.Mono.empty());
    }
}
