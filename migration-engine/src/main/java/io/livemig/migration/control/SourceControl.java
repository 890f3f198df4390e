package io.livemig.migration.control;

import io.livemig.migration.protocol.ControlDecoder;
import io.livemig.migration.protocol.ControlMessage;
import io.livemig.migration.protocol.ControlType;
import io.livemig.migration.protocol.ProtocolError;
import io.livemig.migration.protocol.ProtocolException;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * The source's end of the control channel (spec section 3.4, QEMU's {@code qemu_rdma_exchange_send}),
 * with the credit state explicit:
 * <ul>
 *   <li>{@link #readyCredits}: READYs received and not yet spent. Every unsolicited SEND spends one; the
 *       destination grants one at a time, so a second READY before a SEND is a protocol violation.</li>
 *   <li>{@link #expectedResponse}: the response type a sent request waits for (RAM BLOCKS RESULT,
 *       REGISTER RESULT, UNREGISTER FINISHED), which arrives without a credit because the source's
 *       receive was posted before the request went out.</li>
 * </ul>
 */
public final class SourceControl extends ControlEndpoint {

    private int readyCredits;
    private ControlType expectedResponse = ControlType.NONE;
    private MonoSink<ControlMessage> responseSink;
    private MonoSink<Void> finishedSink;

    /** Creates the source's endpoint; add it to the pipeline of the connected channel. */
    public SourceControl() {
        super(ControlDecoder.forSource());
    }

    /**
     * Sends an unsolicited message (QEMU FILE, COMPRESS, REGISTER FINISHED) once a READY credit is there.
     *
     * @param message the message; ownership passes to this call
     * @return completes when the SEND completed
     */
    public Mono<Void> send(ControlMessage message) {
        if (expectsResponse(message.type())) {
            message.release();
            return Mono.error(new IllegalArgumentException(message.type() + " expects a response: use exchange()"));
        }
        return Mono.create(sink -> onLoop(() -> enqueue(message, true, sink::success, sink::error)));
    }

    /**
     * Sends a request once a READY credit is there and waits for its response.
     *
     * @param request RAM BLOCKS REQUEST, REGISTER REQUEST or UNREGISTER REQUEST; ownership passes
     * @return the response (release it), or an error ({@link ProtocolException} for a wrong type)
     */
    public Mono<ControlMessage> exchange(ControlMessage request) {
        ControlType response = responseTo(request.type());
        if (response == ControlType.NONE) {
            request.release();
            return Mono.error(new IllegalArgumentException(request.type() + " has no response: use send()"));
        }
        return Mono.create(sink -> onLoop(() -> {
            if (failure() != null) {
                request.release();
                sink.error(failure());
                return;
            }
            if (responseSink != null) {
                request.release();
                sink.error(new IllegalStateException("an exchange is already waiting for " + expectedResponse));
                return;
            }
            expectedResponse = response;
            responseSink = sink;
            // The response completes the exchange; a send that fails fails the endpoint and so the exchange.
            enqueue(request, true, () -> { }, cause -> { });
        }));
    }

    /**
     * Waits, after the end of the stream, for the destination to finish: it completes when the connection
     * closes without an ERROR (the destination loaded everything and disconnected, as QEMU's does) and
     * fails when the destination sends ERROR (it refused what it received) or the channel fails otherwise.
     *
     * @return completes when the destination closed the connection
     */
    public Mono<Void> peerFinished() {
        return Mono.create(sink -> onLoop(() -> {
            Throwable failed = failure();
            if (failed != null) {
                settle(sink, failed);
            } else {
                finishedSink = sink;
            }
        }));
    }

    private void settle(MonoSink<Void> sink, Throwable cause) {
        if (cause instanceof java.nio.channels.ClosedChannelException && !receivedError()) {
            sink.success();
        } else {
            sink.error(cause);
        }
    }

    @Override
    protected void onMessage(ControlMessage message) {
        ControlType type = message.type();
        if (type == ControlType.READY) {
            if (readyCredits > 0) {
                throw new ProtocolException(ProtocolError.UNEXPECTED_TYPE,
                        "destination sent a second READY before the source used the first");
            }
            message.release();
            readyCredits++;
            drainSends();
            return;
        }
        if (responseSink == null || type != expectedResponse) {
            throw new ProtocolException(ProtocolError.UNEXPECTED_TYPE, "was expecting "
                    + (responseSink == null ? "READY" : "a " + expectedResponse + " or READY")
                    + " control message, but got " + type + ", length " + message.payloadLength());
        }
        MonoSink<ControlMessage> sink = responseSink;
        responseSink = null;
        expectedResponse = ControlType.NONE;
        sink.success(message);
    }

    @Override
    protected boolean mayAcquireCredit(PendingSend head) {
        return readyCredits > 0;
    }

    @Override
    protected void acquireCredit(PendingSend head) {
        readyCredits--;
    }

    @Override
    protected void failWaiters(Throwable cause) {
        if (finishedSink != null) {
            MonoSink<Void> sink = finishedSink;
            finishedSink = null;
            settle(sink, cause);
        }
        if (responseSink != null) {
            MonoSink<ControlMessage> sink = responseSink;
            responseSink = null;
            sink.error(cause);
        }
    }

    /**
     * READY credits held right now (0 or 1); for diagnostics and tests.
     *
     * @return the credits
     */
    public int readyCredits() {
        return readyCredits;
    }

    private static boolean expectsResponse(ControlType type) {
        return responseTo(type) != ControlType.NONE;
    }

    private static ControlType responseTo(ControlType request) {
        return switch (request) {
            case RAM_BLOCKS_REQUEST -> ControlType.RAM_BLOCKS_RESULT;
            case REGISTER_REQUEST -> ControlType.REGISTER_RESULT;
            case UNREGISTER_REQUEST -> ControlType.UNREGISTER_FINISHED;
            default -> ControlType.NONE;
        };
    }

}
