package io.livemig.transport.rdma.channel;

import java.util.Objects;

/** The answer of an {@link RdmaAcceptor}: accept or reject, with private data for the peer. */
public final class RdmaAcceptDecision {

    private final boolean accepted;
    private final byte[] privateData;

    private RdmaAcceptDecision(boolean accepted, byte[] privateData) {
        this.accepted = accepted;
        this.privateData = Objects.requireNonNull(privateData, "privateData").clone();
    }

    /**
     * Accept; the peer's connect completes and {@link RdmaChannel#peerPrivateData()} there returns these bytes.
     *
     * @param privateData the private data of the accept
     * @return the decision
     */
    public static RdmaAcceptDecision accept(byte[] privateData) {
        return new RdmaAcceptDecision(true, privateData);
    }

    /**
     * Reject; the peer's connect fails with an {@link RdmaConnectionRejectedException} carrying these bytes.
     *
     * @param privateData the private data of the reject
     * @return the decision
     */
    public static RdmaAcceptDecision reject(byte[] privateData) {
        return new RdmaAcceptDecision(false, privateData);
    }

    /**
     * Whether the connection is accepted.
     *
     * @return {@code true} for accept
     */
    public boolean isAccepted() {
        return accepted;
    }

    /**
     * The private data for the peer.
     *
     * @return a copy of the bytes
     */
    public byte[] privateData() {
        return privateData.clone();
    }

    @Override
    public String toString() {
        return (accepted ? "accept" : "reject") + "(" + privateData.length + " bytes)";
    }
}
