package io.livemig.transport.rdma.verbs.soft;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;

/**
 * Decides the fate of each RC packet an {@link InJvmFabric} carries, so tests can reproduce lost, corrupted and
 * late packets deterministically. Connection-manager messages are never subjected to it; a broken link is
 * {@link InJvmFabric#breakLinks()}.
 */
@FunctionalInterface
public interface FaultInjector {

    /** Delivers everything. */
    FaultInjector NONE = packet -> Fault.DELIVER;

    /**
     * Called on the sending thread for each RC packet.
     *
     * @param packet what is about to be carried
     * @return what happens to it
     */
    Fault onPacket(Packet packet);

    /**
     * An RC packet as seen by the injector.
     *
     * @param from the sender's address
     * @param to the receiver's address
     * @param operation the request opcode ({@code "SEND"}, {@code "RDMA_WRITE"}, ...) or the response kind
     *        ({@code "ACK"}, {@code "NAK"}, {@code "READ_RESPONSE"})
     * @param request whether it travels requester → responder
     * @param psn the packet sequence number
     * @param payloadLength the number of payload bytes
     */
    record Packet(InetSocketAddress from, InetSocketAddress to, String operation, boolean request, long psn,
                  int payloadLength) {
    }

    /**
     * The fate of one packet.
     *
     * @param kind what happens
     * @param delay for {@link Kind#DELAY}: how long the fabric holds it; the fabric delivers in one FIFO, so every
     *        later packet waits behind it (link failures do not)
     */
    record Fault(Kind kind, Duration delay) {

        /** Deliver normally. */
        public static final Fault DELIVER = new Fault(Kind.DELIVER, Duration.ZERO);
        /** Lose the packet. */
        public static final Fault DROP = new Fault(Kind.DROP, Duration.ZERO);
        /** Deliver it with a bad ICRC: the receiver discards it, as an HCA does (IB spec 7.8.1). */
        public static final Fault CORRUPT = new Fault(Kind.CORRUPT, Duration.ZERO);
        /**
         * Answer a SEND as a responder without a posted receive does: an RNR NAK goes back, nothing is placed (IB spec
         * 9.7.5.2.8). For other packets the same as {@link #DELIVER}.
         */
        public static final Fault RNR = new Fault(Kind.RNR, Duration.ZERO);

        /** Validates the fault. */
        public Fault {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(delay, "delay");
        }

        /**
         * Holds the packet back.
         *
         * @param delay how long
         * @return the fault
         */
        public static Fault delay(Duration delay) {
            return new Fault(Kind.DELAY, delay);
        }
    }

    /** The kinds of fault. */
    enum Kind {
        /** Deliver normally. */
        DELIVER,
        /** Lose the packet. */
        DROP,
        /** Deliver with a bad checksum, so the receiver discards it. */
        CORRUPT,
        /** Deliver late. */
        DELAY,
        /** Refuse a SEND with an RNR NAK, as a responder with no receive posted. */
        RNR
    }
}
