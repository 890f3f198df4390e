package io.livemig.migration.monitor;

import io.livemig.migration.status.MigrationInfo;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.channels.SocketChannel;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.Disposable;
import reactor.core.scheduler.Schedulers;

/**
 * A QMP client on a socket (QEMU's docs/interop/qmp-spec.rst): the greeting, capabilities negotiation,
 * then commands answered in order, and a {@code MIGRATION} event at every status change of the target.
 * Answers and events come from different threads; {@link #send} serializes them. Events travel through a
 * queue of their own so that a client that stops reading never stalls the migration that emits them.
 */
final class QmpSession implements MonitorSession {

    /** QEMU's greeting with livemig's version; no QMP capabilities (no out-of-band execution). */
    static final String GREETING = "{\"QMP\": {\"version\": " + QmpCommands.VERSION + ", \"capabilities\": []}}";

    private static final Set<String> REQUEST_MEMBERS = Set.of("execute", "arguments", "id");
    private static final int MAX_REQUEST_CHARS = 1 << 20;

    private final SocketChannel channel;
    private final MigrationTarget target;
    private final QmpCommands commands;
    private final OutputStream out;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean negotiated;
    private volatile Disposable events;

    QmpSession(SocketChannel channel, MigrationTarget target) {
        this.channel = channel;
        this.target = target;
        this.commands = new QmpCommands(target);
        this.out = ChannelStreams.output(channel);
    }

    @Override
    public void run() {
        try {
            send(GREETING);
            Reader in = new InputStreamReader(ChannelStreams.input(channel), StandardCharsets.UTF_8);
            // Requests are a stream of JSON values, not lines: one may span reads, one read may hold several.
            StringBuilder pending = new StringBuilder();
            char[] chunk = new char[8192];
            int n;
            while (!closed.get() && (n = in.read(chunk)) >= 0) {
                pending.append(chunk, 0, n);
                if (!drain(pending)) {
                    return;
                }
            }
        } catch (IOException e) {
            // The client went away or the server closed the session.
        } finally {
            close();
        }
    }

    /**
     * Handles every complete request in {@code pending}, leaving an incomplete one for more input.
     *
     * @return false once the session should end ({@code quit})
     */
    private boolean drain(StringBuilder pending) throws IOException {
        while (true) {
            JsonReader.Parsed parsed;
            try {
                parsed = JsonReader.next(pending, 0);
            } catch (JsonReader.JsonException e) {
                if (e.incomplete() && pending.length() < MAX_REQUEST_CHARS) {
                    return true;
                }
                // QEMU's parser drops the bad input and reports it; the next read starts afresh.
                pending.setLength(0);
                send(QmpError.generic(e.getMessage()).toJson(false, null));
                return true;
            }
            if (parsed == null) {
                pending.setLength(0);
                return true;
            }
            pending.delete(0, parsed.end());
            if (!handle(parsed.value())) {
                return false;
            }
        }
    }

    /** Answers one request; false after {@code quit}. */
    private boolean handle(Object request) throws IOException {
        boolean hasId = request instanceof Map<?, ?> m && m.containsKey("id");
        Object id = hasId ? ((Map<?, ?>) request).get("id") : null;
        String command = null;
        try {
            Map<String, Object> arguments = checkRequest(request);
            command = (String) ((Map<?, ?>) request).get("execute");
            String result = dispatch(command, new QmpArguments(arguments));
            send("{\"return\": " + result + (hasId ? ", \"id\": " + JsonWriter.write(id) : "") + "}");
        } catch (QmpError e) {
            send(e.toJson(hasId, id));
            return true;
        }
        if ("quit".equals(command)) {
            send(event("SHUTDOWN", "{\"guest\": false, \"reason\": \"host-qmp-quit\"}"));
            target.quit();
            return false;
        }
        return true;
    }

    /** QEMU's {@code qmp_dispatch} checks of the request object itself. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> checkRequest(Object request) {
        if (!(request instanceof Map<?, ?> map)) {
            throw QmpError.generic("QMP input must be a JSON object");
        }
        for (Object key : map.keySet()) {
            if (!REQUEST_MEMBERS.contains(key)) {
                throw QmpError.generic("QMP input member '" + key + "' is unexpected");
            }
        }
        if (!map.containsKey("execute")) {
            throw QmpError.generic("QMP input lacks member 'execute'");
        }
        if (!(map.get("execute") instanceof String)) {
            throw QmpError.generic("QMP input member 'execute' must be a string");
        }
        Object arguments = map.containsKey("arguments") ? map.get("arguments") : Map.of();
        if (!(arguments instanceof Map<?, ?>)) {
            throw QmpError.generic("QMP input member 'arguments' must be an object");
        }
        return (Map<String, Object>) arguments;
    }

    private String dispatch(String command, QmpArguments args) {
        if (command.equals("qmp_capabilities")) {
            return negotiate(args);
        }
        if (!negotiated) {
            throw new QmpError(QmpError.COMMAND_NOT_FOUND,
                    "Expecting capabilities negotiation with 'qmp_capabilities'");
        }
        if (command.equals("quit")) {
            args.only(Set.of());
            return "{}";
        }
        return commands.execute(command, args);
    }

    private String negotiate(QmpArguments args) {
        if (negotiated) {
            throw new QmpError(QmpError.COMMAND_NOT_FOUND,
                    "Capabilities negotiation is already complete, command ignored");
        }
        args.only(Set.of("enable"));
        if (args.has("enable")) {
            List<?> enable = args.list("enable");
            if (!enable.isEmpty()) {
                throw QmpError.generic("Capability '" + enable.getFirst() + "' not available");
            }
        }
        negotiated = true;
        events = target.statusChanges()
                .map(MigrationInfo::status)
                .distinctUntilChanged()
                .publishOn(Schedulers.boundedElastic())
                .subscribe(status -> {
                    try {
                        send(event("MIGRATION", "{\"status\": " + JsonWriter.write(status.qmpName()) + "}"));
                    } catch (IOException e) {
                        close();
                    }
                }, error -> { });
        if (closed.get()) {
            // close() ran before the subscription existed: it could not dispose of it.
            events.dispose();
        }
        return "{}";
    }

    /** QEMU's event shape, stamped with the wall clock in seconds and microseconds. */
    private static String event(String name, String data) {
        Instant now = Instant.now();
        return "{\"timestamp\": {\"seconds\": " + now.getEpochSecond() + ", \"microseconds\": "
                + now.getNano() / 1000 + "}, \"event\": " + JsonWriter.write(name) + ", \"data\": " + data + "}";
    }

    /** Writes one message; QEMU ends each with CRLF. */
    private void send(String json) throws IOException {
        byte[] bytes = (json + "\r\n").getBytes(StandardCharsets.UTF_8);
        synchronized (out) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        Disposable subscription = events;
        if (subscription != null) {
            subscription.dispose();
        }
        try {
            channel.close();
        } catch (IOException e) {
            // Nothing more to release.
        }
    }
}
