package io.livemig.migration.monitor;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
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
 * <p>While commands are queued or running the session reads nothing more from the client: it reads a batch,
 * answers it, then reads again, as the blocking server it replaces did. Nothing queues up without bound for a
 * client that sends faster than its commands run, and the end of the client's input is seen only after every
 * command before it was answered. That is what lets a script pipe commands in and end its output before the
 * answers came ({@code printf 'info migrate\n' | socat - unix:...}): Netty's NIO unix channel closes at end of
 * input (it does not honour half-closure in 4.2), and TCP is served the same way.
 *
 * <p>The session ends when its channel closes, whoever closes it (the client, {@code quit}, a framing error,
 * the server): commands still queued are dropped then, and one already running finishes and answers nobody.
 * It is not interrupted, because an interrupt inside a controller call could break the migration rather than
 * the wait.
 */
abstract class MonitorSession extends ChannelInboundHandlerAdapter {

    private final ExecutorService commands;
    /** Commands submitted and not yet finished: the loop counts up, the command thread down. */
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
        this(Executors.newSingleThreadExecutor(Thread.ofVirtual().name(threadName).factory()));
    }

    /**
     * A session whose commands run on the given executor, which must run them one at a time in order. Visible for
     * testing: the fuzz tests run commands on the caller's thread, so that a whole exchange happens inside one
     * {@code writeInbound} of an {@code EmbeddedChannel}.
     *
     * @param commands runs the commands; shut down when the session ends
     */
    MonitorSession(ExecutorService commands) {
        this.commands = commands;
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
        if (queued.incrementAndGet() == 1) {
            updateReading();
        }
        try {
            commands.execute(() -> {
                try {
                    if (!ended) {
                        command.run();
                    }
                } finally {
                    if (queued.decrementAndGet() == 0 && !ended) {
                        resumeReading();
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

    private void resumeReading() {
        try {
            // autoRead is decided on the loop only, from the count as it is then: no lost wake-up. Queued after
            // this command's writes, so they reach the socket before anything more is read.
            channel.eventLoop().execute(this::updateReading);
        } catch (RejectedExecutionException e) {
            // The loop is gone (the server closed): there is nothing left to read.
        }
    }

    private void updateReading() {
        channel.config().setAutoRead(!readingStopped && queued.get() == 0);
    }

    /**
     * Writes and flushes one message, from any thread; Netty keeps the writes of one thread in order and
     * never blocks the caller. Dropped once the session ended.
     *
     * @param message a string (the pipeline encodes it as UTF-8)
     */
    final void send(Object message) {
        if (!ended) {
            channel.writeAndFlush(message);
        }
    }

    /** Closes the session once everything written before has reached the socket. */
    final void closeAfterWrites() {
        // Once ended, the loop may be gone too (quit closing the whole server), and a listener on a promise
        // of a terminated loop cannot be notified.
        if (!ended && !channel.eventLoop().isShuttingDown()) {
            // An empty buffer completes after the writes queued before it, so closing on it loses no answer.
            channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
