package io.livemig.transport.rdma.channel;

/**
 * Credit-based flow control over SEND/RECV (the state of {@link RdmaChannelOption#CREDIT_FLOW_CONTROL}), in the
 * manner of rsocket: one credit is one receive the peer has posted; every SEND carries, as immediate data, the
 * receives this side re-posted since its last SEND. Loop-confined.
 *
 * <p>Each side starts with one implicit credit and, when the connection is up, spends it on a grant of the rest of
 * its receive window. Data needs two credits, so the last one is always left for a grant and neither side can end up
 * unable to return credits. A grant without data goes out when a quarter of the window is waiting, or when the
 * peer is down to its reserved credit and the application has released data it sent: that keeps the number of
 * grant-only messages, which themselves consume a receive, geometrically small.
 */
final class Credits {

    private final boolean enabled;
    private final int threshold;
    /** Receives the peer has posted that this side may still consume. */
    private int sendCredits = 1;
    /** Receives re-posted here and not yet granted to the peer. */
    private int pendingGrants;
    /** Of {@link #pendingGrants}, those whose receive carried data (not a grant). */
    private int pendingDataGrants;
    /** This side's estimate of the peer's {@link #sendCredits}. */
    private int peerCredits = 1;

    Credits(boolean enabled, int receiveWindow) {
        this.enabled = enabled;
        this.threshold = Math.max(2, receiveWindow / 4);
    }

    boolean enabled() {
        return enabled;
    }

    /** The connection is up: the whole window but the implicit credit is to be granted. */
    void start(int receiveWindow) {
        if (enabled) {
            pendingGrants += receiveWindow - 1;
        }
    }

    boolean canSendData() {
        return !enabled || sendCredits >= 2;
    }

    boolean grantDue() {
        return enabled && sendCredits >= 1 && pendingGrants > 0
                && (pendingGrants >= threshold || (peerCredits <= 1 && pendingDataGrants > 0));
    }

    /** A SEND (or WRITE with immediate) is being posted: consumes a credit, returns the grant it carries. */
    int spend() {
        if (!enabled) {
            return 0;
        }
        sendCredits--;
        int grant = pendingGrants;
        peerCredits += grant;
        pendingGrants = 0;
        pendingDataGrants = 0;
        return grant;
    }

    /** A WRITE with immediate data is being posted: it consumes a credit but carries no grant. */
    void spendWithoutGrant() {
        if (enabled) {
            sendCredits--;
        }
    }

    /** A receive completed: the peer spent a credit, and granted the given number. */
    void received(int grant) {
        if (enabled) {
            peerCredits--;
            sendCredits += grant;
        }
    }

    /** A receive was posted again. */
    void reposted(boolean carriedData) {
        if (enabled) {
            pendingGrants++;
            if (carriedData) {
                pendingDataGrants++;
            }
        }
    }

    int sendCredits() {
        return sendCredits;
    }

    @Override
    public String toString() {
        return "Credits[send=" + sendCredits + ", pending=" + pendingGrants + ", peer=" + peerCredits + "]";
    }
}
