package io.livemig.migration.control;

import io.livemig.migration.protocol.ControlDecoder;
import io.livemig.migration.protocol.ControlMessage;
import io.livemig.migration.protocol.ControlType;
import io.livemig.migration.protocol.ProtocolError;
import io.livemig.migration.protocol.ProtocolException;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.scheduler.Scheduler;

/**
 * The destination's end of the control channel (spec section 3.4, QEMU's {@code qemu_rdma_exchange_recv}),
 * with READY as Reactive Streams demand: {@link #incoming()} is the Flux of the source's messages, and
 * each {@code request(1)} on it sends one READY ("give me more"). The state is explicit:
 * <ul>
 *   <li>{@link #readyOutstanding}: a READY was sent and its message has not arrived. A message that
 *       arrives without one was sent without a credit: on real RDMA the source would have hit RNR, here it
 *       fails the migration the same way. At most one READY is outstanding, whatever the demand.</li>
 *   <li>{@link #responseOwed}: the response the last request asks for (RAM BLOCKS RESULT, REGISTER RESULT,
 *       UNREGISTER FINISHED); responses go without a READY because the source pre-posted a receive, and no
 *       READY goes before the response owed (QEMU answers, then loops back to its READY).</li>
 * </ul>
 */
public final class DestinationControl extends ControlEndpoint {

    private MonoSink<ControlMessage> receiveSink;
    private FluxSink<ControlMessage> incomingSink;
    /** Messages the {@link #incoming()} subscriber asked for and has not received. */
    private long demand;
    private boolean readyOutstanding;
    private ControlType expected = ControlType.NONE;
    private ControlType responseOwed = ControlType.NONE;
    /** How long the source may take to answer a READY of {@link #incoming}; null for no limit. */
    private Duration answerTimeout;
    private Scheduler timer;
    private Disposable answerDeadline;

    /** Creates the destination's endpoint; add it to the pipeline of the accepted channel. */
    public DestinationControl() {
        super(ControlDecoder.forDestination());
    }

    /**
     * The source's messages as a Flux in which demand is credit: each {@code request(1)} sends one READY,
     * once the response to the previous request (if any) was handed to {@link #respond}. Fails with the
     * endpoint's failure (a {@link ProtocolException}, the source's ERROR, a closed channel). One
     * subscriber at a time, and not together with {@link #receive}.
     *
     * @return the messages (release each)
     */
    public Flux<ControlMessage> incoming() {
        return incoming(null, null);
    }

    /**
     * {@link #incoming()} with a deadline on the source: when it has not answered a READY within
     * {@code timeout}, the endpoint fails with an {@link java.io.IOException} saying so. The time the
     * destination itself takes between two messages (registering, allocating) does not count.
     *
     * @param timeout how long the source may take to answer a READY; null for no limit
     * @param timer the clock of the deadline
     * @return the messages (release each)
     */
    public Flux<ControlMessage> incoming(Duration timeout, Scheduler timer) {
        return Flux.create(sink -> onLoop(() -> {
            answerTimeout = timeout;
            this.timer = timer;
            if (failure() != null) {
                sink.error(failure());
                return;
            }
            if (incomingSink != null || receiveSink != null) {
                sink.error(new IllegalStateException("the source's messages already have a reader"));
                return;
            }
            incomingSink = sink;
            sink.onRequest(n -> onLoop(() -> {
                if (incomingSink == sink) {
                    demand = reactor.core.publisher.Operators.addCap(demand, n);
                    grant();
                }
            }));
            sink.onDispose(() -> onLoop(() -> {
                if (incomingSink == sink) {
                    incomingSink = null;
                    demand = 0;
                }
            }));
        }));
    }

    /**
     * Grants the source one message (sends READY) and waits for it: "give me more".
     *
     * @param expected the type wanted, or {@link ControlType#NONE} for any (the registration loop)
     * @return the message (release it), or an error: {@link ProtocolException} for the wrong type, ERROR
     *     from the source, or a closed channel
     */
    public Mono<ControlMessage> receive(ControlType expected) {
        return Mono.create(sink -> onLoop(() -> {
            if (failure() != null) {
                sink.error(failure());
                return;
            }
            if (receiveSink != null || incomingSink != null) {
                sink.error(new IllegalStateException("a receive is already waiting for " + this.expected));
                return;
            }
            if (responseOwed != ControlType.NONE) {
                sink.error(new IllegalStateException("answer the pending request with " + responseOwed
                        + " before receiving the next message"));
                return;
            }
            receiveSink = sink;
            this.expected = expected;
            sendReady();
        }));
    }

    /**
     * Answers the request received last, without a READY (the source pre-posted a receive for it).
     *
     * @param response RAM BLOCKS RESULT, REGISTER RESULT or UNREGISTER FINISHED; ownership passes
     * @return completes when the SEND completed
     */
    public Mono<Void> respond(ControlMessage response) {
        return Mono.create(sink -> onLoop(() -> {
            if (response.type() != responseOwed || responseOwed == ControlType.NONE) {
                response.release();
                sink.error(new IllegalStateException("no request is waiting for a " + response.type()));
                return;
            }
            responseOwed = ControlType.NONE;
            enqueue(response, false, sink::success, sink::error);
            // The READY the incoming subscriber may already want goes after the response, never before.
            grant();
        }));
    }

    /** Sends the next READY when the subscriber wants a message and the protocol allows one. */
    private void grant() {
        if (incomingSink != null && demand > 0 && !readyOutstanding && responseOwed == ControlType.NONE
                && failure() == null) {
            sendReady();
        }
    }

    private void sendReady() {
        readyOutstanding = true;
        if (answerTimeout != null && incomingSink != null) {
            Duration limit = answerTimeout;
            answerDeadline = timer.schedule(() -> onLoop(() -> {
                if (readyOutstanding) {
                    fail(new IOException("waiting for the source's next control message timed out after "
                            + limit.toMillis() + " ms"));
                }
            }), limit.toMillis(), TimeUnit.MILLISECONDS);
        }
        // A READY that fails to send fails the endpoint, and with it the waiting reader.
        enqueue(ControlMessage.ready(), false, () -> { }, cause -> { });
    }

    @Override
    protected void onMessage(ControlMessage message) {
        if (!readyOutstanding) {
            throw new ProtocolException(ProtocolError.UNEXPECTED_TYPE,
                    "source sent " + message.type() + " without a READY credit");
        }
        message.requireType(expected);
        readyOutstanding = false;
        cancelDeadline();
        expected = ControlType.NONE;
        responseOwed = switch (message.type()) {
            case RAM_BLOCKS_REQUEST -> ControlType.RAM_BLOCKS_RESULT;
            case REGISTER_REQUEST -> ControlType.REGISTER_RESULT;
            case UNREGISTER_REQUEST -> ControlType.UNREGISTER_FINISHED;
            default -> ControlType.NONE;
        };
        if (receiveSink != null) {
            MonoSink<ControlMessage> sink = receiveSink;
            receiveSink = null;
            sink.success(message);
        } else if (incomingSink != null) {
            demand--;
            incomingSink.next(message);
            grant();
        } else {
            // The reader went away after its READY: nobody will use the message.
            message.release();
        }
    }

    @Override
    protected boolean mayAcquireCredit(PendingSend head) {
        // READY and responses never need a credit from the source.
        return true;
    }

    @Override
    protected void acquireCredit(PendingSend head) {
    }

    private void cancelDeadline() {
        if (answerDeadline != null) {
            answerDeadline.dispose();
            answerDeadline = null;
        }
    }

    @Override
    protected void failWaiters(Throwable cause) {
        cancelDeadline();
        if (receiveSink != null) {
            MonoSink<ControlMessage> sink = receiveSink;
            receiveSink = null;
            sink.error(cause);
        }
        if (incomingSink != null) {
            FluxSink<ControlMessage> sink = incomingSink;
            incomingSink = null;
            sink.error(cause);
        }
    }
}
