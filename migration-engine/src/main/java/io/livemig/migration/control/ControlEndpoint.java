package io.livemig.migration.control;

import io.livemig.migration.protocol.ControlDecoder;
import io.livemig.migration.protocol.ControlMessage;
import io.livemig.migration.protocol.ControlType;
import io.livemig.migration.protocol.ProtocolError;
import io.livemig.migration.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Consumer;
import reactor.core.publisher.Mono;

/**
 * What both ends of the control channel share (spec section 3): one control SEND outstanding at a
 * time, decoding and validation of every received message, and a sticky failure state (QEMU's
 * {@code errored}): after the first failure every pending and later operation fails with it.
 *
 * <p>A Netty handler: it sits in the pipeline of a connected channel whose outbound {@link ByteBuf}s
 * are SENDs and whose inbound {@code ByteBuf}s are completed receives. When added it puts its codec in
 * front of itself, a {@link ControlMessageDecoder} (one receive in, one validated {@link ControlMessage}
 * out) and a {@link ControlMessageEncoder} (one message out, one SEND of exactly its length), so the
 * endpoint itself only sees and writes messages. All state is confined to the channel's event loop;
 * the public methods hop onto it and return lazy {@link Mono}s.
 */
public abstract class ControlEndpoint extends ChannelInboundHandlerAdapter {

    /**
     * A message waiting to be sent, and who waits for its send completion.
     *
     * @param message the message, owned until it is encoded
     * @param needsCredit whether it is unsolicited (needs a READY credit on the source)
     * @param sent told when the SEND completed
     * @param failed told when it will never be sent, or its SEND failed
     */
    protected record PendingSend(ControlMessage message, boolean needsCredit, Runnable sent,
            Consumer<Throwable> failed) {
    }

    /** Told of every control message this side sends or receives (for bandwidth accounting and metrics). */
    @FunctionalInterface
    public interface TrafficListener {
        /**
         * One message.
         *
         * @param type its type
         * @param bytes header plus payload
         */
        void message(ControlType type, int bytes);
    }

    private static final TrafficListener SILENT = (type, bytes) -> { };

    private static final ControlMessageEncoder ENCODER = new ControlMessageEncoder();

    private final ControlMessageDecoder decoder;
    private volatile TrafficListener sentListener = SILENT;
    private volatile TrafficListener receivedListener = SILENT;
    private final Deque<PendingSend> sendQueue = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    /** True while a SEND is posted and its completion has not arrived. */
    private boolean sendInFlight;
    private Throwable failure;
    private boolean receivedError;
    private boolean errorSent;
    /** Set on the event loop when the first valid control message arrived; read from any thread. */
    private volatile boolean peerSpoke;

    ControlEndpoint(ControlDecoder decoder) {
        this.decoder = new ControlMessageDecoder(decoder);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        ctx.pipeline().addBefore(ctx.name(), null, decoder);
        ctx.pipeline().addBefore(ctx.name(), null, ENCODER);
    }

    @Override
    public final void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ControlMessage message)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (failure != null) {
            message.release();
            return;
        }
        peerSpoke = true;
        receivedListener.message(message.type(), message.encodedLength());
        if (message.type() == ControlType.ERROR) {
            receivedError = true;
            message.release();
            fail(new ProtocolException(ProtocolError.PEER_ERROR, "peer sent ERROR: it failed or cancelled the"
                    + " migration"));
            return;
        }
        try {
            onMessage(message);
        } catch (ProtocolException | IllegalStateException e) {
            message.release();
            fail(e);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        fail(closed());
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // A receive the decoder refused arrives as DecoderException(ProtocolException): fail with the latter.
        ProtocolException protocol = ControlMessageDecoder.protocolCause(cause);
        fail(protocol != null ? protocol : cause);
    }

    /**
     * Handles one received, validated message other than ERROR. Takes ownership of {@code message},
     * except when it throws: then the caller releases it and fails the endpoint.
     *
     * @param message the message
     */
    protected abstract void onMessage(ControlMessage message);

    /** Whether the send at the head of the queue may go now. */
    protected abstract boolean mayAcquireCredit(PendingSend head);

    /** Consumes what the send at the head of the queue needed (a READY credit on the source). */
    protected abstract void acquireCredit(PendingSend head);

    /** Fails this side's own waiters (pending exchange or receive). */
    protected abstract void failWaiters(Throwable cause);

    /**
     * Sets who is told of each message sent (null for nobody).
     *
     * @param listener the listener
     */
    public final void onBytesSent(TrafficListener listener) {
        sentListener = listener == null ? SILENT : listener;
    }

    /**
     * Sets who is told of each message received (null for nobody).
     *
     * @param listener the listener
     */
    public final void onBytesReceived(TrafficListener listener) {
        receivedListener = listener == null ? SILENT : listener;
    }

    /**
     * The sticky failure, if any.
     *
     * @return the first failure, or null while healthy
     */
    public final Throwable failure() {
        return failure;
    }

    /** Runs {@code task} on the event loop. */
    final void onLoop(Runnable task) {
        if (ctx == null) {
            throw new IllegalStateException("the control endpoint is not in a channel pipeline");
        }
        if (ctx.executor().inEventLoop()) {
            task.run();
        } else {
            ctx.executor().execute(task);
        }
    }

    /** Queues a SEND; completes the sink when the SEND's completion arrives. Loop thread only. */
    final void enqueue(ControlMessage message, boolean needsCredit, Runnable sent, Consumer<Throwable> failed) {
        if (failure != null) {
            message.release();
            failed.accept(failure);
            return;
        }
        sendQueue.add(new PendingSend(message, needsCredit, sent, failed));
        drainSends();
    }

    /** Sends queued messages while a SEND may go: none in flight, and a credit where one is needed. */
    final void drainSends() {
        while (failure == null && !sendInFlight && !sendQueue.isEmpty() && mayAcquireCredit(sendQueue.peek())) {
            PendingSend head = sendQueue.poll();
            acquireCredit(head);
            sendInFlight = true;
            sentListener.message(head.message().type(), head.message().encodedLength());
            // The encoder in front of this handler makes the SEND and releases the message.
            ctx.writeAndFlush(head.message()).addListener(f -> {
                sendInFlight = false;
                if (f.isSuccess()) {
                    head.sent().run();
                    drainSends();
                } else {
                    head.failed().accept(f.cause());
                    fail(f.cause());
                }
            });
        }
    }

    /**
     * Enters the failed state: every waiter fails with {@code cause}, queued messages are dropped.
     * Idempotent: the first failure wins.
     *
     * @param cause why
     */
    final void fail(Throwable cause) {
        if (failure != null) {
            return;
        }
        failure = cause;
        PendingSend pending;
        while ((pending = sendQueue.poll()) != null) {
            pending.message().release();
            pending.failed().accept(cause);
        }
        failWaiters(cause);
    }

    /**
     * Sends ERROR, as QEMU does on failure or cancel before disconnecting ("Early error. Sending
     * error."): without a READY credit, and not when the peer's ERROR is what failed us. Enters the
     * failed state with {@code cause}.
     *
     * @param cause why this side gives up
     * @return completes when the ERROR's SEND completed (or at once when none is sent)
     */
    public final Mono<Void> abort(Throwable cause) {
        return Mono.create(sink -> onLoop(() -> {
            boolean send = !receivedError && !errorSent && ctx.channel().isActive();
            fail(cause);
            if (!send) {
                sink.success();
                return;
            }
            errorSent = true;
            ctx.writeAndFlush(ControlMessage.error()).addListener(f -> sink.success());
        }));
    }

    /**
     * Whether a valid control message (ERROR included) arrived from the peer: a peer whose very first message is
     * not the protocol's is not a migration peer at all, which is a different failure from a peer that breaks
     * the protocol later.
     *
     * @return true once one arrived
     */
    public final boolean peerSpoke() {
        return peerSpoke;
    }

    /**
     * Whether the peer's ERROR failed this endpoint.
     *
     * @return true after receiving ERROR
     */
    public final boolean receivedError() {
        return receivedError;
    }

    /**
     * Closes the connection this endpoint is on (the destination does so once its load finished, which
     * tells the source the migration is complete).
     *
     * @return completes when closed
     */
    public final Mono<Void> closeConnection() {
        return Mono.create(sink -> onLoop(() -> ctx.close().addListener(f -> sink.success())));
    }

    static ClosedChannelException closed() {
        return new ClosedChannelException();
    }

}
