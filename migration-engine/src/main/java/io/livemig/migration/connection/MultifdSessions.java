package io.livemig.migration.connection;

import io.livemig.migration.protocol.MultifdSession;
import io.livemig.transport.rdma.channel.RdmaChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * The destination's record of the migration whose extra channels ({@code multifd}) it admits: the session id it sent
 * in the accept of the first connection, that connection, and the extra channels accepted for it. Used only on the
 * server channel's event loop (the acceptor and the server handler), so it needs no locking; closes from the
 * children's loops only hop back through {@link RdmaChannel#close()}.
 *
 * <p>The acceptor {@link #begin() begins} a session when it accepts a migration that negotiated multifd; the server
 * handler, which sees the new child right after (same loop, same call), binds it ({@link #accepted}). When the first
 * connection closes, the session ends and its extra channels are closed with it: they are useless without it, and the
 * next migration must find the slot free.
 */
final class MultifdSessions {

    /** Most extra channels one migration may open: {@code multifd-channels} is at most 255, one is the first. */
    static final int MAX_EXTRA_CHANNELS = 254;

    private MultifdSession pending;
    private MultifdSession current;
    private RdmaChannel first;
    private final List<RdmaChannel> extras = new ArrayList<>();

    /** A new session for the connection being accepted now; its channel follows in {@link #accepted}. */
    MultifdSession begin() {
        pending = MultifdSession.random();
        return pending;
    }

    /** Binds a just-accepted child: the first connection of the pending session, or an extra channel. */
    void accepted(RdmaChannel child) {
        if (MultifdSession.isChannelConnect(child.peerPrivateData())) {
            if (first != null && first.isOpen()) {
                extras.add(child);
            } else {
                child.close();
            }
            return;
        }
        if (pending == null) {
            return;
        }
        MultifdSession session = pending;
        pending = null;
        current = session;
        first = child;
        extras.clear();
        child.closeFuture().addListener(f -> {
            try {
                child.parent().eventLoop().execute(() -> ended(session));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // The server's loop is gone: the server closed, and its children with it.
            }
        });
    }

    /** The first connection of the running session {@code session} names, or {@code null} (unknown, ended, full). */
    RdmaChannel firstChannelOf(MultifdSession session) {
        if (current == null || !current.equals(session) || first == null || !first.isOpen()
                || extras.size() >= MAX_EXTRA_CHANNELS) {
            return null;
        }
        return first;
    }

    private void ended(MultifdSession session) {
        if (!session.equals(current)) {
            return;
        }
        current = null;
        first = null;
        for (RdmaChannel extra : extras) {
            extra.close();
        }
        extras.clear();
    }
}
