package io.livemig.transport.rdma.verbs.soft;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * What the soft provider runs over: something that connects wires between addresses. The RC engine and the
 * connection manager are the same on every fabric; a fabric only moves frames. Users pick one
 * ({@link TcpFabric}, {@link InJvmFabric}) and pass it to {@link SoftVerbsProvider#open(Fabric)}; the wire-level
 * methods are internal to the provider.
 */
public abstract sealed class Fabric implements AutoCloseable permits TcpFabric, InJvmFabric {

    private final Duration ackTimeout;

    Fabric(Duration ackTimeout) {
        if (ackTimeout.isNegative() || ackTimeout.isZero()) {
            throw new IllegalArgumentException("ackTimeout must be positive: " + ackTimeout);
        }
        this.ackTimeout = ackTimeout;
    }

    /**
     * A short name used in device names.
     *
     * @return {@code "tcp"} or {@code "jvm"}
     */
    public abstract String name();

    /**
     * How long a requester waits for any acknowledgement before it retransmits (the QP's local ACK timeout,
     * {@code timeout} of {@code ibv_modify_qp}); after {@code retry_count} retransmissions without progress the
     * request fails with {@code RETRY_EXC_ERR}.
     *
     * @return the timeout
     */
    public final Duration ackTimeout() {
        return ackTimeout;
    }

    /** Closes the fabric's own resources (threads, registries); idempotent. */
    @Override
    public abstract void close();

    /**
     * Listens for wires.
     *
     * @param address where
     * @param onAccepted receives each new wire, not yet started
     * @return the listener
     * @throws IOException when the address is in use
     */
    abstract Listener listen(InetSocketAddress address, Consumer<Wire> onAccepted) throws IOException;

    /**
     * Connects a wire asynchronously; exactly one callback method is called, on a fabric thread, unless the attempt
     * is cancelled first.
     *
     * @param remote where to
     * @param timeout the longest the attempt may take
     * @param callback the outcome
     * @return closing it cancels the attempt (a wire that connects anyway is handed to the callback, which aborts it)
     */
    abstract AutoCloseable connect(InetSocketAddress remote, Duration timeout, ConnectCallback callback);

    /** A listening endpoint. */
    interface Listener extends AutoCloseable {

        /** The bound address, with the port chosen when 0 was asked for. */
        InetSocketAddress localAddress();

        /** Stops listening; idempotent. */
        @Override
        void close();
    }

    /** The outcome of {@link #connect}. */
    interface ConnectCallback {

        /** The wire is up, not yet started. */
        void connected(Wire wire);

        /** Nobody listens at the address. */
        void refused(String reason);

        /** The address could not be reached within the timeout. */
        void unreachable(String reason);
    }
}
