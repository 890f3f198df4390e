package io.livemig.transport.rdma.channel;

import java.util.Objects;

/** The answer of an {@link RdmaAcceptor}: accept or reject, with private data for the peer. */
public final class RdmaAcceptDecision {

    private final boolean accepted;
    private final byte[] privateData;
    private final RdmaChannel sharing;
    private final boolean oneSided;

    private RdmaAcceptDecision(boolean accepted, byte[] privateData, RdmaChannel sharing, boolean oneSided) {
        this.accepted = accepted;
        this.privateData = Objects.requireNonNull(privateData, "privateData").clone();
        this.sharing = sharing;
        this.oneSided = oneSided;
    }

    /**
     * Accept; the peer's connect completes and {@link RdmaChannel#peerPrivateData()} there returns these bytes.
     *
     * @param privateData the private data of the accept
     * @return the decision
     */
    public static RdmaAcceptDecision accept(byte[] privateData) {
        return new RdmaAcceptDecision(true, privateData, null, false);
    }

    /**
     * Accept into the protection domain of {@code sharing}, a connection this server accepted earlier: memory
     * registered through either channel is then reachable through both queue pairs, so the peer may use the rkeys
     * of one on the other (rkeys belong to a protection domain). The domain lives until both channels are closed.
     * If {@code sharing} is closed by the time the new channel registers, the new channel fails to register.
     *
     * @param privateData the private data of the accept
     * @param sharing an open child of the same server channel
     * @return the decision
     */
    public static RdmaAcceptDecision acceptSharingProtectionDomain(byte[] privateData, RdmaChannel sharing) {
        return new RdmaAcceptDecision(true, privateData, Objects.requireNonNull(sharing, "sharing"), false);
    }

    /**
     * As {@link #acceptSharingProtectionDomain}, for a connection that will carry only one-sided operations (the
     * peer's RDMA WRITEs and READs into memory registered through {@code sharing}): instead of the server's child
     * options, it gets the smallest send and receive rings a channel allows ({@link RdmaChannel#ONE_SIDED_RING_SLOT}
     * bytes a slot, one send slot), which it allocates and registers for nothing else. A SEND to it larger than a
     * slot fails.
     *
     * @param privateData the private data of the accept
     * @param sharing an open child of the same server channel
     * @return the decision
     */
    public static RdmaAcceptDecision acceptOneSidedSharingProtectionDomain(byte[] privateData, RdmaChannel sharing) {
        return new RdmaAcceptDecision(true, privateData, Objects.requireNonNull(sharing, "sharing"), true);
    }

    /**
     * Reject; the peer's connect fails with an {@link RdmaConnectionRejectedException} carrying these bytes.
     *
     * @param privateData the private data of the reject
     * @return the decision
     */
    public static RdmaAcceptDecision reject(byte[] privateData) {
        return new RdmaAcceptDecision(false, privateData, null, false);
    }

    /** Whether the accepted channel carries only one-sided operations (the smallest rings). */
    boolean oneSided() {
        return oneSided;
    }

    /** The channel whose protection domain the accepted one shares, or {@code null} for a domain of its own. */
    RdmaChannel sharing() {
        return sharing;
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
