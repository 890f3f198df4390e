package io.livemig.migration.control;

import io.livemig.migration.protocol.ControlDecoder;
import io.livemig.migration.protocol.ControlMessage;
import io.livemig.migration.protocol.ControlType;
import io.livemig.migration.protocol.ProtocolError;
import io.livemig.migration.protocol.ProtocolException;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.publisher.MonoSink;

/**
 * The source's end of the control channel (spec section 3.4, QEMU's {@code qemu_rdma_exchange_send}),
 * with READY credits as Reactive Streams demand:
 * <ul>
 *   <li>every unsolicited SEND (QEMU FILE, COMPRESS, REGISTER FINISHED, and the requests) is an element of
 *       one {@link Flux} of control SENDs, and the destination's READY is {@code request(1)} on it: nothing
 *       is sent before its READY, and a SEND waits in the Flux's queue until one arrives. The destination
 *       grants one at a time, so a second READY while the first is unused is a protocol violation;</li>
 *   <li>{@link #expectedResponse}: the response type a sent request waits for (RAM BLOCKS RESULT,
 *       REGISTER RESULT, UNREGISTER FINISHED), which arrives without a credit because the source's
 *       receive was posted before the request went out.</li>
 * </ul>
 */
public final class SourceControl extends ControlEndpoint {

    /** The unsolicited SENDs, in order; emitted and consumed on the event loop only. */
    private final Sinks.Many<PendingSend> sends = Sinks.many().unicast().onBackpressureBuffer();
    private final Credits credits = new Credits();
    private ControlType expectedResponse = ControlType.NONE;
    private MonoSink<ControlMessage> responseSink;
    private MonoSink<Void> finishedSink;

    /** Creates the source's endpoint; add it to the pipeline of the connected channel. */
    public SourceControl() {
        super(ControlDecoder.forSource());
        sends.asFlux()
                // A failed endpoint cancels the Flux: queued SENDs are released and their waiters told.
                .doOnDiscard(PendingSend.class, p -> {
                    p.message().release();
                    p.failed().accept(failure() != null ? failure() : closed());
                })
                .subscribe(credits);
    }

    /**
     * The subscriber of the SENDs Flux: it holds no demand until a READY arrives, and each READY requests
     * exactly one SEND (QEMU's {@code qemu_rdma_exchange_send} waits for READY before every unsolicited
     * message). {@link #granted} is the credit that a READY gave and no SEND used yet.
     */
    private final class Credits extends BaseSubscriber<PendingSend> {
        private boolean granted;

        @Override
        protected void hookOnSubscribe(Subscription subscription) {
            // No demand: the destination has not granted anything yet.
        }

        /** A READY arrived: one more SEND may go. Event loop only. */
        void ready() {
            if (granted) {
                throw new ProtocolException(ProtocolError.UNEXPECTED_TYPE,
                        "destination sent a second READY before the source used the first");
            }
            granted = true;
            request(1);
        }

        @Override
        protected void hookOnNext(PendingSend send) {
            granted = false;
            transmit(send);
        }
    }

    /**
     * Sends an unsolicited message (QEMU FILE, COMPRESS, REGISTER FINISHED) against the next READY.
     *
     * @param message the message; ownership passes to this call
     * @return completes when the SEND completed
     */
    public Mono<Void> send(ControlMessage message) {
        if (expectsResponse(message.type())) {
            message.release();
            return Mono.error(new IllegalArgumentException(message.type() + " expects a response: use exchange()"));
        }
        return Mono.create(sink -> onLoop(() -> offer(new PendingSend(message, true, sink::success, sink::error))));
    }

    /**
     * Sends a request against the next READY and waits for its response.
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
            offer(new PendingSend(request, true, () -> { }, cause -> { }));
        }));
    }

    /** Puts a SEND into the Flux; it goes when a READY requests it. Event loop only. */
    private void offer(PendingSend send) {
        if (failure() != null) {
            send.message().release();
            send.failed().accept(failure());
            return;
        }
        if (sends.tryEmitNext(send).isFailure()) {
            send.message().release();
            send.failed().accept(failure() != null ? failure() : closed());
        }
    }

    /** Hands a SEND that a READY requested to the channel. */
    private void transmit(PendingSend send) {
        enqueue(send.message(), false, send.sent(), send.failed());
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
            credits.ready(); // throws for a second READY: the caller then releases the message
            message.release();
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
        // The credit was spent when the READY's demand delivered this SEND.
        return true;
    }

    @Override
    protected void acquireCredit(PendingSend head) {
    }

    @Override
    protected void failWaiters(Throwable cause) {
        credits.dispose();
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
        return credits.granted ? 1 : 0;
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
