package io.livemig.transport.rdma.channel;

import java.net.ConnectException;

/** The peer's acceptor (or its connection manager) rejected the connect request. */
public final class RdmaConnectionRejectedException extends ConnectException {

    private static final long serialVersionUID = 1L;

    private final int reason;
    private final byte[] privateData;

    /**
     * Creates the exception.
     *
     * @param message the description
     * @param reason the reject reason of the REJECTED event
     * @param privateData the private data the peer sent with its reject
     */
    public RdmaConnectionRejectedException(String message, int reason, byte[] privateData) {
        super(message);
        this.reason = reason;
        this.privateData = privateData.clone();
    }

    /**
     * The reject reason: {@link io.livemig.transport.rdma.verbs.CmEvent#REJECT_CONSUMER_DEFINED} for a reject by the
     * peer's application.
     *
     * @return the reason
     */
    public int reason() {
        return reason;
    }

    /**
     * The private data the peer rejected with; on InfiniBand and RoCE zero-padded to 148 bytes (see
     * {@link io.livemig.transport.rdma.verbs.CmEvent}).
     *
     * @return a copy of the bytes, empty when there were none
     */
    public byte[] privateData() {
        return privateData.clone();
    }
}
