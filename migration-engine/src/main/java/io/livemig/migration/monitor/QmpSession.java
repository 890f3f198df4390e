package io.livemig.migration.monitor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.livemig.migration.status.MigrationInfo;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.json.JsonObjectDecoder;
import io.netty.handler.codec.string.StringEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import reactor.core.Disposable;

/**
 * A QMP client on a socket (QEMU's docs/interop/qmp-spec.rst): the greeting, capabilities negotiation,
 * then commands answered in order, and a {@code MIGRATION} event at every status change of the target.
 *
 * <p>Requests are a stream of JSON objects, not of lines: {@link JsonObjectDecoder} cuts them out by counting
 * braces (one may span reads, one read may hold several), Jackson parses each, and a malformed one is answered
 * with QEMU's {@code JSON parse error, ...} while the session goes on. Two inputs end the session after their
 * answer instead, because a brace-counting framer cannot find the next request after them: a request over
 * {@value #MAX_REQUEST_BYTES} bytes ({@code JSON token size limit exceeded}) and a byte that cannot start an
 * object or array between requests ({@code JSON parse error, stray 'x'}). QEMU's own lexer resynchronizes and
 * goes on. The framer also knows only double-quoted strings: a brace inside a single-quoted string (which
 * QEMU and the parser accept) miscounts.
 */
final class QmpSession extends MonitorSession {

    /** The largest request, in bytes. */
    static final int MAX_REQUEST_BYTES = 1 << 20;

    /** QEMU's answer to a request over its limit (qobject/json-streamer.c). */
    static final String TOO_LONG = "JSON token size limit exceeded";

    private static final Set<String> REQUEST_MEMBERS = Set.of("execute", "arguments", "id");

    private final MigrationTarget target;
    private final QmpCommands commands;
    /** Touched only by the session's command thread. */
    private boolean negotiated;
    private volatile Disposable events;
    /** Event loop only: framing was lost and anything still decoded is dropped. */
    private boolean framingLost;

    private QmpSession(MigrationTarget target, ExecutorService commandExecutor) {
        super(commandExecutor);
        this.target = target;
        this.commands = new QmpCommands(target);
    }

    private QmpSession(MigrationTarget target, String threadName) {
        super(threadName);
        this.target = target;
        this.commands = new QmpCommands(target);
    }

    /**
     * Sets up a new connection's pipeline.
     *
     * @param pipeline the connection's pipeline
     * @param target what the commands act on
     * @param name names the session's thread
     */
    static void initialize(ChannelPipeline pipeline, MigrationTarget target, String name) {
        pipeline.addLast("objects", new Framer())
                .addLast("encoder", new StringEncoder(StandardCharsets.UTF_8))
                .addLast("session", new QmpSession(target, "livemig-qmp-session " + name));
    }

    /**
     * Sets up a pipeline whose commands run on the given executor. Visible for testing (the fuzz tests).
     *
     * @param pipeline the connection's pipeline
     * @param target what the commands act on
     * @param commandExecutor runs the commands one at a time, in order
     */
    static void initialize(ChannelPipeline pipeline, MigrationTarget target, ExecutorService commandExecutor) {
        pipeline.addLast("objects", new Framer())
                .addLast("encoder", new StringEncoder(StandardCharsets.UTF_8))
                .addLast("session", new QmpSession(target, commandExecutor));
    }

    /**
     * QEMU's greeting with livemig's version; no QMP capabilities (no out-of-band execution).
     *
     * @return {@code {"QMP": {"version": ..., "capabilities": []}}}
     */
    static ObjectNode greeting() {
        ObjectNode greeting = QmpJson.object();
        ObjectNode qmp = greeting.putObject("QMP");
        qmp.set("version", QmpCommands.version());
        qmp.putArray("capabilities");
        return greeting;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        sendJson(greeting());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        try {
            if (framingLost) {
                return;
            }
            // Parsed here, on the loop: at most 1 MiB of text, and the command thread gets a plain tree.
            JsonNode request;
            try {
                request = QmpJson.parse(frame);
            } catch (QmpError malformed) {
                submit(() -> sendJson(malformed.toJson(null)));
                return;
            }
            submit(() -> handle(request));
        } finally {
            frame.release();
        }
    }

    @Override
    void framingError(DecoderException error) {
        if (framingLost) {
            // The rest of an over-long request, read before reading stopped: already answered.
            return;
        }
        String desc;
        if (error instanceof TooLongFrameException) {
            desc = TOO_LONG;
        } else if (error instanceof StrayInput stray) {
            desc = "JSON parse error, stray '" + stray.text() + "'";
        } else {
            super.framingError(error);
            return;
        }
        framingLost = true;
        stopReading();
        submit(() -> {
            sendJson(QmpError.generic(desc).toJson(null));
            closeAfterWrites();
        });
    }

    /** Answers one request, on the session's thread. */
    private void handle(JsonNode request) {
        JsonNode id = request.isObject() ? request.get("id") : null;
        String command;
        try {
            ObjectNode arguments = checkRequest(request);
            command = request.get("execute").textValue();
            JsonNode result = dispatch(command, new QmpArguments(arguments));
            ObjectNode answer = QmpJson.object();
            answer.set("return", result);
            if (id != null) {
                answer.set("id", id);
            }
            sendJson(answer);
        } catch (QmpError e) {
            sendJson(e.toJson(id));
            return;
        }
        if (command.equals("qmp_capabilities")) {
            // After the answer, so that no event can precede it.
            startEvents();
        } else if (command.equals("quit")) {
            ObjectNode data = QmpJson.object().put("guest", false).put("reason", "host-qmp-quit");
            sendJson(event("SHUTDOWN", data));
            target.quit();
            closeAfterWrites();
        }
    }

    /** QEMU's {@code qmp_dispatch} checks of the request object itself. */
    private static ObjectNode checkRequest(JsonNode request) {
        if (!request.isObject()) {
            throw QmpError.generic("QMP input must be a JSON object");
        }
        for (Map.Entry<String, JsonNode> member : request.properties()) {
            if (!REQUEST_MEMBERS.contains(member.getKey())) {
                throw QmpError.generic("QMP input member '" + member.getKey() + "' is unexpected");
            }
        }
        if (!request.has("execute")) {
            throw QmpError.generic("QMP input lacks member 'execute'");
        }
        if (!request.get("execute").isTextual()) {
            throw QmpError.generic("QMP input member 'execute' must be a string");
        }
        JsonNode arguments = request.has("arguments") ? request.get("arguments") : QmpJson.object();
        if (!arguments.isObject()) {
            throw QmpError.generic("QMP input member 'arguments' must be an object");
        }
        return (ObjectNode) arguments;
    }

    private JsonNode dispatch(String command, QmpArguments args) {
        if (command.equals("qmp_capabilities")) {
            return negotiate(args);
        }
        if (!negotiated) {
            throw new QmpError(QmpError.COMMAND_NOT_FOUND,
                    "Expecting capabilities negotiation with 'qmp_capabilities'");
        }
        if (command.equals("quit")) {
            args.only(Set.of());
            return QmpCommands.nothing();
        }
        return commands.execute(command, args);
    }

    private JsonNode negotiate(QmpArguments args) {
        if (negotiated) {
            throw new QmpError(QmpError.COMMAND_NOT_FOUND,
                    "Capabilities negotiation is already complete, command ignored");
        }
        args.only(Set.of("enable"));
        if (args.has("enable")) {
            ArrayNode enable = args.list("enable");
            if (!enable.isEmpty()) {
                JsonNode first = enable.get(0);
                throw QmpError.generic("Capability '" + (first.isTextual() ? first.textValue() : QmpJson.write(first))
                        + "' not available");
            }
        }
        negotiated = true;
        return QmpCommands.nothing();
    }

    /**
     * Follows the target's status. Writes never block (Netty queues them), so the event is written on whatever
     * thread the engine reports the change from; a client that stops reading costs memory, not progress.
     */
    private void startEvents() {
        Disposable subscription = target.statusChanges()
                .map(MigrationInfo::status)
                .distinctUntilChanged()
                .subscribe(status -> sendJson(event("MIGRATION", QmpJson.object().put("status", status.qmpName()))),
                        error -> { });
        events = subscription;
        if (isEnded()) {
            // The session ended before the subscription existed, so ended() could not dispose of it.
            subscription.dispose();
        }
    }

    @Override
    void ended() {
        Disposable subscription = events;
        if (subscription != null) {
            subscription.dispose();
        }
    }

    /** QEMU's event shape, stamped with the wall clock in seconds and microseconds. */
    private static ObjectNode event(String name, ObjectNode data) {
        Instant now = Instant.now();
        ObjectNode event = QmpJson.object();
        event.putObject("timestamp").put("seconds", now.getEpochSecond()).put("microseconds", now.getNano() / 1000);
        event.put("event", name);
        event.set("data", data);
        return event;
    }

    /** Writes one message; QEMU ends each with CRLF. */
    private void sendJson(JsonNode message) {
        send(QmpJson.write(message) + "\r\n");
    }

    /**
     * {@link JsonObjectDecoder} that names the byte it refused. It refuses a byte between objects that is
     * neither whitespace nor {@code {} or {@code [}, and stops with its reader index on that byte; from then on
     * it discards everything, which is why the session ends.
     */
    private static final class Framer extends JsonObjectDecoder {

        Framer() {
            super(MAX_REQUEST_BYTES);
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
            try {
                super.decode(ctx, in, out);
            } catch (CorruptedFrameException e) {
                throw new StrayInput(in.getByte(in.readerIndex()));
            }
        }
    }

    /** A byte between requests that cannot start one. */
    static final class StrayInput extends CorruptedFrameException {

        private static final long serialVersionUID = 1L;

        private final String text;

        StrayInput(byte value) {
            super("stray byte 0x" + Integer.toHexString(value & 0xff) + " between QMP requests");
            int c = value & 0xff;
            this.text = c >= 0x20 && c < 0x7f ? String.valueOf((char) c) : String.format("\\x%02x", c);
        }

        /**
         * The byte as QEMU's message shows it.
         *
         * @return the character, or {@code \xNN} when not printable ASCII
         */
        String text() {
            return text;
        }
    }
}
