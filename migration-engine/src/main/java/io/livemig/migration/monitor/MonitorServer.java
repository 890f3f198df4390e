package io.livemig.migration.monitor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BiFunction;

/**
 * A monitor listening on a socket: HMP text or QMP JSON, on {@code unix:PATH} or {@code tcp:HOST:PORT}.
 * Any number of clients at once, each served on a daemon thread of its own; every client acts on the
 * same {@link MigrationTarget}. A stale {@code unix:} socket file is replaced at start and removed at
 * close, as QEMU does with its own.
 */
public final class MonitorServer implements AutoCloseable {

    private static final long ACCEPT_RETRY_NANOS = 10_000_000;

    private final MonitorAddress address;
    private final ServerSocketChannel server;
    private final String bound;
    private final MigrationTarget target;
    private final BiFunction<SocketChannel, MigrationTarget, MonitorSession> sessions;
    private final Set<MonitorSession> open = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();

    private MonitorServer(String kind, String addressText, MigrationTarget target,
            BiFunction<SocketChannel, MigrationTarget, MonitorSession> sessions) {
        this.address = MonitorAddress.parse(Objects.requireNonNull(addressText, "address"));
        this.target = Objects.requireNonNull(target, "target");
        this.sessions = sessions;
        this.server = bind(address);
        try {
            this.bound = address.describe(server.getLocalAddress());
        } catch (IOException e) {
            closeQuietly();
            throw new UncheckedIOException("cannot listen on " + addressText + ": " + e.getMessage(), e);
        }
        Thread.ofPlatform().name("livemig-" + kind + "-accept " + bound).daemon().start(this::accept);
    }

    /**
     * Serves HMP on an address.
     *
     * @param address {@code unix:PATH} or {@code tcp:HOST:PORT}
     * @param target what the commands act on
     * @return the running server
     * @throws IllegalArgumentException for a malformed address
     * @throws java.io.UncheckedIOException if it cannot listen
     */
    public static MonitorServer hmp(String address, MigrationTarget target) {
        return new MonitorServer("hmp", address, target, HmpSession::new);
    }

    /**
     * Serves QMP on an address.
     *
     * @param address {@code unix:PATH} or {@code tcp:HOST:PORT}
     * @param target what the commands act on
     * @return the running server
     * @throws IllegalArgumentException for a malformed address
     * @throws java.io.UncheckedIOException if it cannot listen
     */
    public static MonitorServer qmp(String address, MigrationTarget target) {
        return new MonitorServer("qmp", address, target, QmpSession::new);
    }

    private static ServerSocketChannel bind(MonitorAddress address) {
        ServerSocketChannel channel = null;
        try {
            if (address.isUnix()) {
                removeStaleSocket(address);
                channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            } else {
                channel = ServerSocketChannel.open();
            }
            channel.bind(address.socketAddress());
            return channel;
        } catch (IOException e) {
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            String where = address.isUnix() ? "unix:" + address.unixPath() : "tcp:" + address.host() + ":"
                    + address.port();
            throw new UncheckedIOException("cannot listen on " + where + ": " + e.getMessage(), e);
        }
    }

    /** Only a socket file is removed: a regular file or directory at the path is somebody's data. */
    private static void removeStaleSocket(MonitorAddress address) throws IOException {
        if (Files.exists(address.unixPath(), LinkOption.NOFOLLOW_LINKS)
                && Files.readAttributes(address.unixPath(), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                        .isOther()) {
            Files.delete(address.unixPath());
        }
    }

    private void accept() {
        while (!closed.get()) {
            SocketChannel client;
            try {
                client = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (closed.get()) {
                    return;
                }
                // Out of file descriptors, say: back off a little rather than spin on the same error.
                LockSupport.parkNanos(ACCEPT_RETRY_NANOS);
                continue;
            }
            MonitorSession session = sessions.apply(client, target);
            open.add(session);
            if (closed.get()) {
                // close() may have swept the sessions before this one was added.
                session.close();
            }
            Thread.ofPlatform().name("livemig-monitor-session " + bound).daemon().start(() -> {
                try {
                    session.run();
                } finally {
                    session.close();
                    open.remove(session);
                }
            });
        }
    }

    /**
     * Where it listens, as {@code unix:PATH} or {@code tcp:HOST:PORT} with the bound port.
     *
     * @return the address
     */
    public String address() {
        return bound;
    }

    /** Stops listening and closes every session (idempotent). */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        closeQuietly();
        for (MonitorSession session : open) {
            session.close();
        }
        open.clear();
    }

    private void closeQuietly() {
        try {
            server.close();
        } catch (IOException e) {
            // Already closed or broken: nothing left to release.
        }
        if (address.isUnix()) {
            try {
                Files.deleteIfExists(address.unixPath());
            } catch (IOException e) {
                // A socket file we cannot remove is replaced by the next server on the path.
            }
        }
    }
}
