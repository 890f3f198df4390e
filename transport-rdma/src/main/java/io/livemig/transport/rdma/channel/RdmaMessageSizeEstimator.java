package io.livemig.transport.rdma.channel;

import io.netty.channel.DefaultMessageSizeEstimator;
import io.netty.channel.MessageSizeEstimator;

/**
 * Counts {@link RdmaWrite} and {@link RdmaRead} by their length, so the write-buffer water marks (and
 * {@code isWritable()}) see the bytes a one-sided operation keeps in flight; other messages as Netty's default.
 */
final class RdmaMessageSizeEstimator implements MessageSizeEstimator {

    static final RdmaMessageSizeEstimator INSTANCE = new RdmaMessageSizeEstimator();

    private static final Handle HANDLE = new Handle() {
        private final Handle fallback = DefaultMessageSizeEstimator.DEFAULT.newHandle();

        @Override
        public int size(Object msg) {
            if (msg instanceof RdmaWrite write) {
                return write.length();
            }
            if (msg instanceof RdmaRead read) {
                return read.length();
            }
            return fallback.size(msg);
        }
    };

    private RdmaMessageSizeEstimator() {
    }

    @Override
    public Handle newHandle() {
        return HANDLE;
    }
}
