package io.livemig.migration.control;

import io.livemig.migration.protocol.ControlDecoder;
import io.livemig.migration.protocol.ControlMessage;
import io.livemig.migration.protocol.ControlType;
import io.livemig.migration.protocol.ProtocolError;
import io.livemig.migration.protocol.ProtocolException;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * The destination's end of the control channel (spec section 3.4, QEMU's {@code qemu_rdma_exchange_recv}),
 * with its state explicit:
 * <ul>
 *   <li>{@link #receiveSink}: the one receive the destination has granted a READY for. A message that
 *       arrives without one was sent without a credit: on real RDMA the source would have hit RNR, here it
 *       fails the migration the same way.</li>
 *   <li>{@link #responseOwed}: the response the last request asks for (RAM BLOCKS RESULT, REGISTER RESULT,
 *       UNREGISTER FINISHED); responses go without a READY because the source pre-posted a receive.</li>
 * </ul>
 */
public final class DestinationControl extends ControlEndpoint {

    private MonoSink<ControlMessage> receiveSink;
    private ControlType expected = ControlType.NONE;
    private ControlType responseOwed = ControlType.NONE;

    /** Creates the destination's endpoint; add it to the pipeline of the accepted channel. */
    public DestinationControl() {
        super(ControlDecoder.forDestination());
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
            if (receiveSink != null) {
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
            // A READY that fails to send fails the endpoint, and with it this receive.
            enqueue(ControlMessage.ready(), false, () -> { }, cause -> { });
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
        }));
    }

    @Override
    protected void onMessage(ControlMessage message) {
        if (receiveSink == null) {
            throw new ProtocolException(ProtocolError.UNEXPECTED_TYPE,
                    "source sent " + message.type() + " without a READY credit");
        }
        message.requireType(expected);
        MonoSink<ControlMessage> sink = receiveSink;
        receiveSink = null;
        expected = ControlType.NONE;
        responseOwed = switch (message.type()) {
            case RAM_BLOCKS_REQUEST -> ControlType.RAM_BLOCKS_RESULT;
            case REGISTER_REQUEST -> ControlType.REGISTER_RESULT;
            case UNREGISTER_REQUEST -> ControlType.UNREGISTER_FINISHED;
            default -> ControlType.NONE;
        };
        sink.success(message);
    }

    @Override
    protected boolean mayAcquireCredit(PendingSend head) {
        // READY and responses never need a credit from the source.
        return true;
    }

    @Override
    protected void acquireCredit(PendingSend head) {
    }

    @Override
    protected void failWaiters(Throwable cause) {
        if (receiveSink != null) {
            MonoSink<ControlMessage> sink = receiveSink;
            receiveSink = null;
            sink.error(cause);
        }
    }
}
