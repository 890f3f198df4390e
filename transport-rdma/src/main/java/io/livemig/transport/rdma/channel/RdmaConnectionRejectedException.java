package io.livemig.transport.rdma.channel;

import io.livemig.transport.rdma.unix.Errno;
import io.livemig.transport.rdma.verbs.CmEvent;
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
     * Whether nothing listens on the address connected to: on InfiniBand and RoCE the peer's connection manager
     * answers a connect to a port without a listener with reject reason 8 (invalid service ID), on iWARP the TCP
     * connect is refused ({@code -ECONNREFUSED}); the soft provider imitates the former.
     *
     * @return true when no listener was there, rather than a listener refusing
     */
    public boolean nothingListening() {
        return reason == CmEvent.REJECT_INVALID_SERVICE_ID || reason == -Errno.ECONNREFUSED;
    }

    /**
     * The reason in words, for messages: the IB CM reject reasons a connect meets in practice (IB spec 12.6.7.2,
     * table 112) and iWARP's refused connect; others by number.
     *
     * @param reason the status of a REJECTED event
     * @return for example {@code "invalid service ID (reject reason 8)"}, or {@code "consumer reject (reject reason
     *         28)"} for a reject by the peer's application
     */
    public static String describe(int reason) {
        String words = switch (reason) {
            case 1 -> "no QP available";
            case 3 -> "no resources available";
            case 4 -> "timeout";
            case 5 -> "unsupported request";
            case CmEvent.REJECT_INVALID_SERVICE_ID -> "invalid service ID";
            case 10 -> "stale connection";
            case 26 -> "invalid MTU";
            case CmEvent.REJECT_CONSUMER_DEFINED -> "consumer reject";
            case -Errno.ECONNREFUSED -> "connection refused";
            default -> null;
        };
        return words == null ? "reject reason " + reason
                : reason < 0 ? words + " (" + Errno.name(-reason) + ")" : words + " (reject reason " + reason + ")";
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
