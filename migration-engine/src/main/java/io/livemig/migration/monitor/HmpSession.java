package io.livemig.migration.monitor;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.string.StringDecoder;
import io.netty.handler.codec.string.StringEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;

/**
 * An HMP client on a socket: QEMU's banner and prompt, then one {@link HmpMonitor#execute} per line until
 * EOF or {@code quit}, as {@link HmpMonitor#serve} does on a terminal.
 *
 * <p>Lines are cut at {@code \n} (a {@code \r} before it is dropped) and may hold at most
 * {@value #MAX_LINE_BYTES} bytes. A longer line is skipped up to its end and answered with
 * {@link #LINE_TOO_LONG}; the session goes on with the next line, as QEMU's monitor goes on after its
 * readline buffer overflowed.
 */
final class HmpSession extends MonitorSession {

    /** What QEMU prints first on a monitor, with livemig's name. */
    static final String BANNER = "livemig 0.1.0 monitor - type 'help' for more information";

    /** The longest command line, in bytes without its line ending. */
    static final int MAX_LINE_BYTES = 64 * 1024;

    /** The answer to a line over {@link #MAX_LINE_BYTES}. */
    static final String LINE_TOO_LONG = "Error: command line too long (the monitor reads at most " + MAX_LINE_BYTES
            + " bytes), ignored";

    private final HmpMonitor monitor;

    private HmpSession(MigrationTarget target, String threadName) {
        super(threadName);
        this.monitor = new HmpMonitor(target);
    }

    private HmpSession(MigrationTarget target, ExecutorService commandExecutor) {
        super(commandExecutor);
        this.monitor = new HmpMonitor(target);
    }

    /**
     * Sets up a new connection's pipeline.
     *
     * @param pipeline the connection's pipeline
     * @param target what the commands act on
     * @param name names the session's thread
     */
    static void initialize(ChannelPipeline pipeline, MigrationTarget target, String name) {
        addHandlers(pipeline, new HmpSession(target, "livemig-hmp-session " + name));
    }

    /**
     * Sets up a pipeline whose commands run on the given executor. Visible for testing (the fuzz tests).
     *
     * @param pipeline the connection's pipeline
     * @param target what the commands act on
     * @param commandExecutor runs the commands one at a time, in order
     */
    static void initialize(ChannelPipeline pipeline, MigrationTarget target, ExecutorService commandExecutor) {
        addHandlers(pipeline, new HmpSession(target, commandExecutor));
    }

    private static void addHandlers(ChannelPipeline pipeline, HmpSession session) {
        // failFast off: the error is raised at the end of the long line, in order with the lines around it.
        pipeline.addLast("lines", new LineBasedFrameDecoder(MAX_LINE_BYTES, true, false))
                .addLast("text", new StringDecoder(StandardCharsets.UTF_8))
                .addLast("encoder", new StringEncoder(StandardCharsets.UTF_8))
                .addLast("session", session);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        send(BANNER + "\n" + HmpMonitor.PROMPT);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        String line = (String) msg;
        submit(() -> answer(line));
    }

    private void answer(String line) {
        String answer = monitor.execute(line);
        if (HmpMonitor.endsSession(line, answer)) {
            // quit answers nothing, and no prompt follows it.
            closeAfterWrites();
        } else {
            send((answer.isEmpty() ? "" : answer + "\n") + HmpMonitor.PROMPT);
        }
    }

    @Override
    void framingError(DecoderException error) {
        if (error instanceof TooLongFrameException) {
            submit(() -> send(LINE_TOO_LONG + "\n" + HmpMonitor.PROMPT));
        } else {
            super.framingError(error);
        }
    }
}
