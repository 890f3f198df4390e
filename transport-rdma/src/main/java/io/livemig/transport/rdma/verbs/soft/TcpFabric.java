package io.livemig.transport.rdma.verbs.soft;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * The TCP fabric: one TCP connection per queue pair, carrying the CM handshake (with its private data) and then
 * the RC packets. Works across processes and hosts; TCP already delivers in order, so the RC engine's
 * retransmissions only matter when the connection breaks.
 */
public final class TcpFabric extends Fabric {

    private static final Duration DEFAULT_ACK_TIMEOUT = Duration.ofSeconds(2);


    /** Creates a fabric with a 2-second local ACK timeout. */
    public TcpFabric() {
        this(DEFAULT_ACK_TIMEOUT);
    }

    /**
     * Creates a fabric.
     *
     * @param ackTimeout how long a requester waits for an acknowledgement before retransmitting
     */
    public TcpFabric(Duration ackTimeout) {
        super(ackTimeout);
    }

    @Override
    public String name() {
        return "tcp";
    }


    @Override
    Listener listen(InetSocketAddress address, Consumer<Wire> onAccepted) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open();
        try {
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(address, 64);
        } catch (IOException e) {
            server.close();
            throw e;
        }
        InetSocketAddress bound = (InetSocketAddress) server.getLocalAddress();
        SoftThreads.start("tcp-accept", () -> acceptLoop(server, onAccepted));
        return new Listener() {
            @Override
            public InetSocketAddress localAddress() {
                return bound;
            }

            @Override
            public void close() {
                try {
                    server.close(); // wakes the accept loop with AsynchronousCloseException
                } catch (IOException ignored) {
                    // Nothing more can be done about a failing close.
                }
            }
        };
    }

    private static void acceptLoop(ServerSocketChannel server, Consumer<Wire> onAccepted) {
        while (server.isOpen()) {
            try {
                SocketChannel channel = server.accept();
                onAccepted.accept(new TcpWire(configure(channel)));
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!server.isOpen()) {
                    return;
                }
            }
        }
    }

    private static SocketChannel configure(SocketChannel channel) throws IOException {
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        return channel;
    }

    @Override
    AutoCloseable connect(InetSocketAddress remote, Duration timeout, ConnectCallback callback) {
        SocketChannel channel;
        try {
            channel = SocketChannel.open();
        } catch (IOException e) {
            callback.unreachable("cannot open a socket: " + e.getMessage());
            return () -> { };
        }
        SoftThreads.start("tcp-connect", () -> {
            try {
                int millis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
                channel.socket().connect(remote, millis);
                callback.connected(new TcpWire(configure(channel)));
            } catch (ConnectException e) {
                closeQuietly(channel);
                callback.refused(remote + ": " + e.getMessage());
            } catch (IOException e) {
                closeQuietly(channel);
                callback.unreachable(remote + ": " + e.getMessage());
            }
        });
        return channel::close;
    }

    private static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // Already failing.
        }
    }

    /** The TCP fabric has no shared resources: listeners and wires are closed by their identifiers. */
    @Override
    public void close() {
    }
}
