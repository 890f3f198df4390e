package io.livemig.migration.connection;

import io.livemig.migration.source.RdmaDataPath;
import io.livemig.migration.source.WriteRefusedException;
import io.livemig.transport.rdma.channel.RdmaChannel;
import io.livemig.transport.rdma.channel.RdmaException;
import io.livemig.transport.rdma.channel.RdmaWrite;
import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import io.livemig.transport.rdma.verbs.WcStatus;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.Set;
import reactor.core.publisher.Mono;

/**
 * The source's data path on an {@link RdmaChannel}: registrations in the connection's protection
 * domain, and each write an {@link RdmaWrite} whose promise completes on its work completion.
 */
public final class RdmaChannelDataPath implements RdmaDataPath {

    private final RdmaChannel channel;

    /**
     * Wraps a connected channel.
     *
     * @param channel the migration connection
     */
    public RdmaChannelDataPath(RdmaChannel channel) {
        this.channel = channel;
    }

    @Override
    public MemoryRegion register(MemorySegment memory, Set<AccessFlag> access) throws IOException {
        return channel.registerMemory(memory, access);
    }

    @Override
    public boolean pinsMemory() {
        return channel.pinsRegisteredMemory();
    }

    @Override
    public Mono<Void> write(MemoryRegion local, long offset, int length, long remoteAddress, int rkey) {
        return Mono.create(sink -> channel.writeAndFlush(RdmaWrite.of(local, offset, length, remoteAddress, rkey))
                .addListener(future -> {
                    if (future.isSuccess()) {
                        sink.success();
                    } else {
                        sink.error(refused(future.cause()));
                    }
                }));
    }

    /** A remote access error is the destination's adapter refusing the write: said so, for the round to name it. */
    private static Throwable refused(Throwable cause) {
        if (cause instanceof RdmaException rdma && rdma.status() == WcStatus.REM_ACCESS_ERR) {
            return new WriteRefusedException(cause.getMessage(), cause);
        }
        return cause;
    }
}
