package io.livemig.migration.monitor;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.DecoderException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One client connection of a {@link MonitorServer}: the last handler of the connection's pipeline, after the
 * framing. Requests arrive on the event loop, but commands may block (they call into the migration
 * controllers, and HMP's {@code migrate} waits for the migration to end), so each runs on this session's own
 * virtual thread, one after another in the order the requests arrived; the event loop never waits for one.
 *
 * <p>The session ends when its channel closes, whoever closes it (the client, {@code quit}, a framing error,
 * the server): commands still queued are dropped then, and one already running finishes and answers nobody.
 * It is not interrupted, because an interrupt inside a controller call could break the migration rather than
 * the wait. A client that half-closes (sends its commands, then ends its output) still gets every answer
 * before the session closes, as it did from the blocking server.
 *
 * <p>A client that sends faster than its commands run is paused: reading stops while
 * {@value #MAX_QUEUED} commands wait, and resumes once the queue drains below that.
 */
abstract class MonitorSession extends ChannelInboundHandlerAdapter {

    /** Queued commands at which the session stops reading from the client. */
    static final int MAX_QUEUED = 64;

    private final ExecutorService commands;
    /** Commands submitted and not yet finished; changed by the loop (up) and the command thread (down). */
    private final AtomicInteger queued = new AtomicInteger();
    private volatile Channel channel;
    private volatile boolean ended;
    /** Set on the event loop once the input can no longer be trusted (a framing error): reading stays off. */
    private boolean readingStopped;

    /**
     * A session whose commands run on a virtual thread of that name.
     *
     * @param threadName e.g. {@code livemig-qmp-session tcp:127.0.0.1:4444}
     */
    MonitorSession(String threadName) {
        // One thread per session is what keeps its commands in order; virtual, so an idle session is cheap.
        this.commands = Executors.newSingleThreadExecutor(Thread.ofVirtual().name(threadName).factory());
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    @Override
    public final void channelInactive(ChannelHandlerContext ctx) {
        ended = true;
        // Queued tasks still run after shutdown(), but each checks `ended` first and does nothing.
        commands.shutdown();
        ended();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof ChannelInputShutdownEvent) {
            // End of the client's input: answer what it sent, then close (the server allows half-closure).
            submit(this::closeAfterWrites);
        } else {
            ctx.fireUserEventTriggered(event);
        }
    }

    @Override
    public final void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof DecoderException decoding) {
            framingError(decoding);
        } else {
            // The connection broke (reset by the client, say): nothing more can be said on it.
            ctx.close();
        }
    }

    /**
     * The framing refused input (a line or object over its cap, bytes that cannot start a request). This
     * default closes the session; the protocols answer the errors they know first.
     *
     * @param error the decoder's report, on the event loop
     */
    void framingError(DecoderException error) {
        channel.close();
    }

    /** Called once on the event loop when the channel closed; releases what the protocol holds. */
    void ended() {
    }

    /**
     * Whether the channel closed.
     *
     * @return true once {@link #ended()} ran or is running
     */
    final boolean isEnded() {
        return ended;
    }

    /**
     * Runs a command on this session's thread after those submitted before it; dropped once the session
     * ended. Called on the event loop.
     *
     * @param command the command, which answers with {@link #send}
     */
    final void submit(Runnable command) {
        if (queued.incrementAndGet() >= MAX_QUEUED) {
            updateReading();
        }
        try {
            commands.execute(() -> {
                try {
                    if (!ended) {
                        command.run();
                    }
                } finally {
                    if (queued.decrementAndGet() == MAX_QUEUED - 1) {
                        // autoRead is decided on the loop only, from the count as it is then: no lost wake-up.
                        channel.eventLoop().execute(this::updateReading);
                    }
                }
            });
        } catch (RejectedExecutionException e) {
            // The session ended (shutdown) before the command could be queued: nobody is left to answer.
            queued.decrementAndGet();
        }
    }

    /**
     * Stops reading from the client for good (its input lost its framing). Called on the event loop.
     */
    final void stopReading() {
        readingStopped = true;
        updateReading();
    }

    private void updateReading() {
        channel.config().setAutoRead(!readingStopped && queued.get() < MAX_QUEUED);
    }

    /**
     * Writes and flushes one message, from any thread; Netty keeps the writes of one thread in order and
     * never blocks the caller. After the session ended the write fails quietly.
     *
     * @param message a string (the pipeline encodes it as UTF-8)
     */
    final void send(Object message) {
        channel.writeAndFlush(message);
    }

    /** Closes the session once everything written before has reached the socket. */
    final void closeAfterWrites() {
        // An empty buffer completes after the writes queued before it, so closing on it loses no answer.
        channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
}
