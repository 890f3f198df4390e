package io.livemig.transport.rdma.verbs.soft;

import java.net.InetSocketAddress;

/**
 * One end of a point-to-point link carrying the frames of one connection (one QP pair). Frames arrive in the order
 * they were sent, on one thread per wire, until the wire goes down.
 */
interface Wire {

    /**
     * Starts delivering inbound frames to the handler; frames that arrived before are delivered first.
     *
     * @param handler the receiver
     */
    void start(WireHandler handler);

    /**
     * Queues a frame for transmission; never blocks on the network. Frames sent after the wire went down are
     * dropped silently (the handler has been or will be told).
     *
     * @param frame the frame
     * @param payload the bytes that travel with it
     */
    void send(Frame frame, Gather payload);

    /** Transmits what is queued, then closes; idempotent. The peer sees its wire go down. */
    void close();

    /** Closes at once, dropping what is queued: a link failure as far as the peer can tell; idempotent. */
    void abort();

    /**
     * A requester on this wire exhausted its retries: the path is dead. The requests it flushed must no longer touch
     * their memory (IB spec 10.8.3.3: a flushed work request is finished), so a wire that may still be reading a
     * payload for the network gives the link up ({@link #abort()}); one that holds no payload outside its delivery
     * does nothing.
     */
    void retriesExhausted();

    /** The local address. */
    InetSocketAddress localAddress();

    /** The peer's address. */
    InetSocketAddress remoteAddress();

    /** Receives a wire's inbound frames, all on one thread. */
    interface WireHandler {

        /**
         * A frame arrived.
         *
         * @param frame the frame
         * @param payload its bytes, valid only during this call
         */
        void onFrame(Frame frame, Payload payload);

        /**
         * The wire went down (closed by either end, or failed); no frame follows.
         *
         * @param reason why, for messages
         */
        void onWireDown(String reason);
    }
}
