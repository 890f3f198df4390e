package io.livemig.transport.rdma.channel;

import java.net.InetSocketAddress;

/**
 * Decides, per connect request, whether an {@link RdmaServerChannel} accepts the connection (the value of
 * {@link RdmaChannelOption#ACCEPTOR}). It runs on the server channel's event loop and must not block.
 */
@FunctionalInterface
public interface RdmaAcceptor {

    /** Accepts every request, with no private data. */
    RdmaAcceptor ACCEPT_ALL = (remote, privateData) -> RdmaAcceptDecision.accept(new byte[0]);

    /**
     * Decides.
     *
     * @param remote the peer's address
     * @param privateData the private data of the peer's connect request (a copy; on InfiniBand and RoCE
     *        zero-padded to 56 bytes, see {@link io.livemig.transport.rdma.verbs.CmEvent})
     * @return accept or reject, each with the private data the peer receives
     */
    RdmaAcceptDecision decide(InetSocketAddress remote, byte[] privateData);
}
