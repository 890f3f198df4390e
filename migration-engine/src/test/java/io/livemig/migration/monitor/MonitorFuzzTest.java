package io.livemig.migration.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.livemig.migration.params.MigrationCapabilities;
import io.livemig.migration.params.MigrationCapability;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.status.MigrationInfo;
import io.livemig.testing.FuzzInputs;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.DefaultChannelId;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

/**
 * Coverage-guided fuzzing of the QMP and HMP monitors as a client reaches them: the input goes through a session's
 * real pipeline (framing, Jackson or the HMP line parser, the command dispatch) in an {@link EmbeddedChannel}, with
 * commands run on the test's thread after the read (as on the session's thread, never inside the framing) and acting
 * on a target that records settings and refuses to migrate.
 *
 * <p>Every input gets answers, never an exception: no command throws, QMP writes only JSON objects (the greeting, a
 * {@code return}, an {@code error} with class and text, or an event) each ending in CRLF, HMP answers each line
 * and a prompt after it, a session closes only after {@code quit} or a refused framing (and then says why), and the
 * input buffer is released.
 */
class MonitorFuzzTest {

    private static final JsonMapper JSON = new JsonMapper();
    /** What a QMP session says before it closes on a framing it refused. */
    private static final List<String> QMP_CLOSING_ERRORS = List.of("JSON token size limit exceeded",
            "JSON parse error, stray '");

    @FuzzTest
    void qmpSession(byte[] input) throws Exception {
        List<String> output = exchange(input, QmpSession::initialize);
        String text = String.join("", output);
        assertThat(text).endsWith("\r\n");
        List<String> messages = lines(text);
        assertThat(JSON.readTree(messages.getFirst()).has("QMP")).as("the greeting first").isTrue();
        for (String message : messages) {
            JsonNode node = JSON.readTree(message);
            assertThat(node.isObject()).as(message).isTrue();
            if (node.has("error")) {
                assertThat(node.get("error").get("class").isTextual()).as(message).isTrue();
                assertThat(node.get("error").get("desc").isTextual()).as(message).isTrue();
            } else {
                assertThat(node.has("QMP") || node.has("return") || node.has("event")).as(message).isTrue();
            }
        }
    }

    @FuzzTest
    void hmpSession(byte[] input) throws Exception {
        List<String> output = exchange(input, HmpSession::initialize);
        String text = String.join("", output);
        assertThat(text).startsWith(HmpSession.BANNER + "\n" + HmpMonitor.PROMPT);
        // A failed command says why in words, never with only an exception's class name.
        for (int at = text.indexOf("Error: "); at >= 0; at = text.indexOf("Error: ", at + 1)) {
            if (at == 0 || text.charAt(at - 1) == '\n') {
                int end = text.indexOf('\n', at);
                String said = text.substring(at + "Error: ".length(), end < 0 ? text.length() : end);
                assertThat(isClassNameOnly(said)).as("an error that is only a class name: %s", said).isFalse();
            }
        }
    }

    /**
     * Sends the input to a new session and returns what it wrote; fails when a command threw or the session closed
     * for another reason than {@code quit} or a framing it refused.
     */
    private static List<String> exchange(byte[] input,
            TriConsumer<io.netty.channel.ChannelPipeline, MigrationTarget, InlineExecutor> initializer)
            throws Exception {
        InlineExecutor commands = new InlineExecutor();
        FuzzTarget target = new FuzzTarget();
        // Every buffer the session allocates comes from an allocator that counts the bytes it has out, so a buffer
        // the session forgets is found at the end of the very input that leaked it. (This replaces PARANOID leak
        // detection for these buffers: that one finds a leak only when the garbage collector runs, and recording a
        // stack trace per access made the sessions five times slower to fuzz.)
        UnpooledByteBufAllocator allocator = new UnpooledByteBufAllocator(false, true);
        // Set up as the channel registers, so that the session sees it become active and greets.
        EmbeddedChannel channel = new EmbeddedChannel(DefaultChannelId.newInstance(), false, false,
                new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        initializer.accept(ch.pipeline(), target, commands);
                    }
                });
        channel.config().setAllocator(allocator);
        channel.register();
        ByteBuf in = Unpooled.copiedBuffer(input);
        channel.writeInbound(in);
        commands.runQueued();
        channel.runPendingTasks();
        boolean closed = !channel.isOpen();
        List<String> output = new ArrayList<>();
        for (ByteBuf out; (out = channel.readOutbound()) != null; ) {
            output.add(out.toString(StandardCharsets.UTF_8));
            out.release();
        }
        channel.finishAndReleaseAll();
        assertThat(allocator.metric().usedHeapMemory() + allocator.metric().usedDirectMemory())
                .as("bytes the session allocated and never released").isZero();
        if (input.length > 0) {
            // (An empty input is Netty's shared empty buffer, whose count never changes.)
            assertThat(in.refCnt()).as("references to the input").isZero();
        }
        if (commands.failure != null) {
            throw new AssertionError("a command threw", commands.failure);
        }
        if (closed) {
            String last = String.join("", output);
            assertThat(target.quit || QMP_CLOSING_ERRORS.stream().anyMatch(last::contains))
                    .as("closed after quit or a refused framing: %s", last).isTrue();
        }
        return output;
    }

    /**
     * Whether an error text is nothing but a class name such as {@code java.lang.IllegalStateException}: letters and
     * dots ending in {@code Exception} or {@code Error}. By hand, not a regular expression, which Jazzer hooks at a
     * cost of a tenth of the HMP target's time.
     */
    static boolean isClassNameOnly(String error) {
        String said = error.endsWith("\r") ? error.substring(0, error.length() - 1) : error;
        int suffix = said.endsWith("Exception") ? "Exception".length() : said.endsWith("Error") ? "Error".length() : -1;
        if (suffix < 0 || said.length() == suffix) {
            return false;
        }
        for (int i = 0; i < said.length(); i++) {
            char c = said.charAt(i);
            if (c != '.' && !(c >= 'A' && c <= 'Z') && !(c >= 'a' && c <= 'z')) {
                return false;
            }
        }
        return true;
    }

    /**
     * The CRLF-terminated messages of a QMP output, cut by hand: {@code String.split("\r\n")} is a regular
     * expression, which Jazzer hooks (it encodes the whole subject for its value profile), and that alone took two
     * thirds of the fuzzing time.
     */
    private static List<String> lines(String text) {
        List<String> lines = new ArrayList<>();
        for (int from = 0, end; (end = text.indexOf("\r\n", from)) >= 0; from = end + 2) {
            lines.add(text.substring(from, end));
        }
        return lines;
    }

    @Test
    void theClassNameCheckTellsAClassNameFromAnExplanation() {
        assertThat(isClassNameOnly("java.lang.IllegalStateException")).isTrue();
        assertThat(isClassNameOnly("OutOfMemoryError\r")).isTrue();
        assertThat(isClassNameOnly("Error")).isFalse();
        assertThat(isClassNameOnly("Parameter 'max-bandwidth' expects a size")).isFalse();
        assertThat(isClassNameOnly("java.lang.IllegalStateException: no migration")).isFalse();
    }

    @Test
    void seedsAreRequestsAClientSends() {
        FuzzInputs.check(getClass(), "qmpSession", qmpSeeds());
        FuzzInputs.check(getClass(), "hmpSession", hmpSeeds());
    }

    static Map<String, byte[]> qmpSeeds() {
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        String negotiate = "{\"execute\": \"qmp_capabilities\"}\r\n";
        seeds.put("queries", utf8(negotiate + "{\"execute\": \"query-migrate\", \"id\": 1}"
                + "{\"execute\": \"query-migrate-capabilities\"}{\"execute\": \"query-migrate-parameters\"}"
                + "{\"execute\": \"query-status\"}{\"execute\": \"query-version\"}{\"execute\": \"query-commands\"}"));
        seeds.put("settings", utf8(negotiate + "{\"execute\": \"migrate-set-parameters\", \"arguments\": "
                + "{\"max-bandwidth\": 1073741824, \"downtime-limit\": 500}}\n{\"execute\": "
                + "\"migrate-set-capabilities\", \"arguments\": {\"capabilities\": [{\"capability\": \"rdma-pin-all\","
                + " \"state\": true}]}}"));
        seeds.put("migrate", utf8(negotiate + "{'execute': 'migrate', 'arguments': {'uri': 'rdma:127.0.0.1:4444'}}"
                + "{\"execute\": \"migrate-incoming\", \"arguments\": {\"uri\": \"rdma:0.0.0.0:4444\"}}"
                + "{\"execute\": \"migrate-continue\", \"arguments\": {\"state\": \"pre-switchover\"}}"
                + "{\"execute\": \"migrate_cancel\"}"));
        seeds.put("errors", utf8("{\"execute\": \"query-migrate\"}" + negotiate + "{\"execute\": 1}[1, 2]"
                + "{\"execute\": \"nope\", \"arguments\": []}{\"execute\": \"x\", \"x\": 1}{\"a\" 1}{\"a\": 1, \"a\": 2}"));
        seeds.put("quit", utf8(negotiate + "{\"execute\": \"quit\"}{\"execute\": \"query-status\"}"));
        seeds.put("stray", utf8(negotiate + "x{\"execute\": \"query-status\"}"));
        return seeds;
    }

    static Map<String, byte[]> hmpSeeds() {
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        seeds.put("info", utf8("info migrate\ninfo migrate_capabilities\r\ninfo migrate_parameters\ninfo\ninfo x y\n"));
        seeds.put("settings", utf8("migrate_set_parameter max-bandwidth 40g\nmigrate_set_parameter downtime-limit 400\n"
                + "migrate_set_capability rdma-pin-all on\nmigrate_set_capability x maybe\n"));
        seeds.put("migrate", utf8("migrate -d rdma:127.0.0.1:4444\nmigrate rdma:[::1]:4444\nmigrate -x u\n"
                + "migrate_incoming rdma:0.0.0.0:4444\nmigrate_continue pre-switchover\nmigrate_cancel\n"));
        seeds.put("help", utf8("help\n? migrate\nhelp info\nhelp nope\nnope\n\n   \n"));
        seeds.put("quit", utf8("quit now\nq\ninfo migrate\n"));
        return seeds;
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** The sessions' test initializers: pipeline, target, command executor. */
    @FunctionalInterface
    private interface TriConsumer<A, B, C> {
        void accept(A a, B b, C c);
    }

    /**
     * Queues the commands and runs them on the caller's thread when told, after the read that submitted them: as on
     * the session's own thread, a command never runs inside the framing's decode loop. Remembers the first one that
     * threw.
     */
    private static final class InlineExecutor extends AbstractExecutorService {

        private final java.util.ArrayDeque<Runnable> queued = new java.util.ArrayDeque<>();
        private boolean shutdown;
        private Throwable failure;

        @Override
        public void execute(Runnable command) {
            if (shutdown) {
                throw new RejectedExecutionException("session ended");
            }
            queued.add(command);
        }

        /** Runs the queued commands in order, including those queued meanwhile. */
        void runQueued() {
            for (Runnable command; (command = queued.poll()) != null; ) {
                try {
                    command.run();
                } catch (Throwable t) {
                    if (failure == null) {
                        failure = t;
                    }
                }
            }
        }

        @Override
        public void shutdown() {
            shutdown = true;
        }

        @Override
        public List<Runnable> shutdownNow() {
            shutdown = true;
            return List.of();
        }

        @Override
        public boolean isShutdown() {
            return shutdown;
        }

        @Override
        public boolean isTerminated() {
            return shutdown;
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) {
            return shutdown;
        }
    }

    /** Keeps settings like a controller does; never migrates (a fuzzer must not open connections). */
    private static final class FuzzTarget implements MigrationTarget {

        private MigrationCapabilities capabilities = MigrationCapabilities.DEFAULTS;
        private MigrationParameters parameters = MigrationParameters.DEFAULTS;
        private boolean quit;

        @Override
        public Role role() {
            return Role.SOURCE;
        }

        @Override
        public MigrationCapabilities capabilities() {
            return capabilities;
        }

        @Override
        public void setCapability(MigrationCapability capability, boolean on) {
            capabilities = capabilities.with(capability, on);
        }

        @Override
        public MigrationParameters parameters() {
            return parameters;
        }

        @Override
        public void setParameters(MigrationParameters parameters) {
            this.parameters = parameters;
        }

        @Override
        public MigrationInfo info() {
            return MigrationInfo.NONE;
        }

        @Override
        public Flux<MigrationInfo> statusChanges() {
            return Flux.empty();
        }

        @Override
        public void migrate(MigrationUri uri) {
            throw new IllegalStateException("this test target does not migrate (to " + uri + ")");
        }

        @Override
        public void cancel() {
        }

        @Override
        public void incoming(MigrationUri uri) {
            throw new IllegalStateException("this test target does not listen (on " + uri + ")");
        }

        @Override
        public void quit() {
            quit = true;
        }
    }
}
