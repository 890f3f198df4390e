package io.livemig.migration.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.migration.protocol.ControlDecoder;
import io.livemig.migration.protocol.ControlMessage;
import io.livemig.migration.protocol.ControlType;
import io.livemig.migration.protocol.ProtocolError;
import io.livemig.migration.protocol.ProtocolException;
import io.livemig.migration.protocol.RegisterRequest;
import io.livemig.migration.protocol.RegisterResult;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * The credit protocol of spec section 3.4 between the two endpoints, over two embedded channels whose
 * outbound SENDs are delivered to each other by {@link #pump()}, with every SEND recorded as
 * (direction, type, len, repeat).
 */
class ControlChannelTest {

    private final SourceControl source = new SourceControl();
    private final DestinationControl destination = new DestinationControl();
    private final EmbeddedChannel sourceChannel = new EmbeddedChannel(source);
    private final EmbeddedChannel destinationChannel = new EmbeddedChannel(destination);
    private final List<String> transcript = new ArrayList<>();

    @AfterEach
    void close() {
        sourceChannel.finishAndReleaseAll();
        destinationChannel.finishAndReleaseAll();
    }

    /** Delivers SENDs both ways until neither side has anything left to send. */
    private void pump() {
        boolean moved = true;
        while (moved) {
            moved = deliver(sourceChannel, destinationChannel, "src->dst") | deliver(destinationChannel, sourceChannel,
                    "dst->src");
        }
    }

    private boolean deliver(EmbeddedChannel from, EmbeddedChannel to, String direction) {
        boolean moved = false;
        ByteBuf send;
        while ((send = from.readOutbound()) != null) {
            transcript.add(direction + " " + ControlType.fromValue(send.getInt(4)).displayName() + " len="
                    + send.getInt(0) + " repeat=" + send.getInt(8));
            if (to.isActive()) {
                to.writeInbound(send);
            } else {
                send.release();
            }
            moved = true;
        }
        return moved;
    }

    private static <T> AtomicReference<Object> subscribe(Mono<T> mono) {
        AtomicReference<Object> result = new AtomicReference<>();
        mono.subscribe(v -> result.set(v), result::set, () -> result.compareAndSet(null, "done"));
        return result;
    }

    @Test
    void sourceSendsNothingUnsolicitedUntilTheDestinationGrantsAReady() {
        AtomicReference<Object> sent = subscribe(source.send(ControlMessage.registerFinished()));
        pump();
        assertThat(transcript).isEmpty();
        assertThat(sent.get()).isNull();

        AtomicReference<Object> received = subscribe(destination.receive(ControlType.NONE));
        pump();
        assertThat(transcript).containsExactly("dst->src READY len=0 repeat=1",
                "src->dst REGISTER FINISHED len=0 repeat=1");
        assertThat(sent.get()).isEqualTo("done");
        assertThat(received.get()).isInstanceOfSatisfying(ControlMessage.class, m -> {
            assertThat(m.type()).isEqualTo(ControlType.REGISTER_FINISHED);
            m.release();
        });
        assertThat(source.readyCredits()).isZero();
    }

    @Test
    void registerExchangeFollowsTheSequenceOfSection92() {
        AtomicReference<Object> request = subscribe(destination.receive(ControlType.NONE));
        AtomicReference<Object> response = subscribe(
                source.exchange(ControlMessage.registerRequest(List.of(new RegisterRequest(0x345000, 0, 0)))));
        pump();
        ControlMessage received = (ControlMessage) request.get();
        assertThat(received.registerRequests()).containsExactly(new RegisterRequest(0x345000, 0, 0));
        received.release();

        subscribe(destination.respond(ControlMessage.registerResult(List.of(new RegisterResult(0x1234, 0x7f00L)))));
        AtomicReference<Object> next = subscribe(destination.receive(ControlType.NONE));
        pump();
        assertThat(transcript).containsExactly(
                "dst->src READY len=0 repeat=1",
                "src->dst REGISTER REQUEST len=24 repeat=1",
                "dst->src REGISTER RESULT len=16 repeat=1",
                "dst->src READY len=0 repeat=1");
        assertThat(response.get()).isInstanceOfSatisfying(ControlMessage.class, m -> {
            assertThat(m.registerResults()).containsExactly(new RegisterResult(0x1234, 0x7f00L));
            m.release();
        });
        assertThat(source.readyCredits()).isEqualTo(1);
        assertThat(next.get()).isNull();
    }

    @Test
    void atMostOneControlSendIsOutstanding() {
        HeldSends held = new HeldSends();
        DestinationControl endpoint = new DestinationControl();
        EmbeddedChannel channel = new EmbeddedChannel(held, endpoint);
        try {
            AtomicReference<Object> request = subscribe(endpoint.receive(ControlType.NONE));
            assertThat(held.writes).hasSize(1); // the READY, whose completion has not arrived
            writeInbound(channel, ControlMessage.registerRequest(List.of(new RegisterRequest(0, 0, 0))));
            ((ControlMessage) request.get()).release();

            AtomicReference<Object> responded = subscribe(
                    endpoint.respond(ControlMessage.registerResult(List.of(new RegisterResult(1, 2)))));
            assertThat(held.writes).hasSize(1);
            assertThat(responded.get()).isNull();

            held.completeOldest();
            assertThat(held.writes).hasSize(1); // now the REGISTER RESULT
            assertThat(held.writes.getFirst().buffer().getInt(4)).isEqualTo(ControlType.REGISTER_RESULT.value());
            held.completeOldest();
            assertThat(responded.get()).isEqualTo("done");
        } finally {
            channel.finishAndReleaseAll();
        }
    }

    /** An outbound handler that keeps SENDs posted but uncompleted until told, like a slow work completion. */
    private static final class HeldSends extends io.netty.channel.ChannelOutboundHandlerAdapter {
        record Held(ByteBuf buffer, io.netty.channel.ChannelPromise promise) {
        }

        final java.util.Deque<Held> writes = new java.util.ArrayDeque<>();

        @Override
        public void write(io.netty.channel.ChannelHandlerContext ctx, Object msg,
                io.netty.channel.ChannelPromise promise) {
            writes.add(new Held((ByteBuf) msg, promise));
        }

        void completeOldest() {
            Held oldest = writes.poll();
            oldest.buffer().release();
            oldest.promise().setSuccess();
        }
    }

    @Test
    void destinationFailsAMessageSentWithoutACredit() {
        ByteBuf unsolicited = Unpooled.buffer();
        ControlMessage.registerFinished().encode(unsolicited);
        destinationChannel.writeInbound(unsolicited);
        assertThat(destination.failure()).isInstanceOfSatisfying(ProtocolException.class, e -> {
            assertThat(e.error()).isEqualTo(ProtocolError.UNEXPECTED_TYPE);
            assertThat(e).hasMessage("source sent REGISTER FINISHED (9) without a READY credit");
        });
    }

    @Test
    void sourceFailsOnASecondReadyAndOnAnUnexpectedResponse() {
        writeInbound(sourceChannel, ControlMessage.ready());
        writeInbound(sourceChannel, ControlMessage.ready());
        assertThat(source.failure())
                .hasMessage("destination sent a second READY before the source used the first");

        SourceControl other = new SourceControl();
        EmbeddedChannel channel = new EmbeddedChannel(other);
        writeInbound(channel, ControlMessage.registerResult(List.of(new RegisterResult(1, 2))));
        assertThat(other.failure())
                .hasMessage("was expecting READY control message, but got REGISTER RESULT (8), length 16");
        channel.finishAndReleaseAll();
    }

    @Test
    void destinationChecksTheExpectedType() {
        AtomicReference<Object> received = subscribe(destination.receive(ControlType.QEMU_FILE));
        subscribe(source.send(ControlMessage.registerFinished()));
        pump();
        assertThat(received.get()).isInstanceOfSatisfying(ProtocolException.class, e -> assertThat(e)
                .hasMessage("was expecting a QEMU FILE (3) control message, but got REGISTER FINISHED (9), length 0"));
    }

    @Test
    void anErrorFromThePeerFailsEverythingAndIsNotAnsweredWithError() {
        AtomicReference<Object> exchange = subscribe(source.exchange(ControlMessage.ramBlocksRequest()));
        writeInbound(sourceChannel, ControlMessage.error());
        assertThat(exchange.get()).isInstanceOfSatisfying(ProtocolException.class,
                e -> assertThat(e.error()).isEqualTo(ProtocolError.PEER_ERROR));
        assertThat(source.receivedError()).isTrue();
        subscribe(source.abort(new IllegalStateException("cancelled")));
        assertThat((Object) sourceChannel.readOutbound()).isNull();
        // Later operations fail at once with the first failure.
        assertThat(subscribe(source.send(ControlMessage.registerFinished())).get())
                .isInstanceOf(ProtocolException.class);
    }

    @Test
    void abortSendsErrorOnceWithoutACredit() {
        subscribe(source.abort(new IllegalStateException("cancelled")));
        subscribe(source.abort(new IllegalStateException("again")));
        ByteBuf error = sourceChannel.readOutbound();
        assertThat(ControlDecoder.forDestination().decode(error).type()).isEqualTo(ControlType.ERROR);
        error.release();
        assertThat((Object) sourceChannel.readOutbound()).isNull();
        assertThat(source.failure()).hasMessage("cancelled");
    }

    @Test
    void closingTheChannelFailsWaitersWithClosedChannelException() {
        AtomicReference<Object> received = subscribe(destination.receive(ControlType.NONE));
        destinationChannel.close();
        assertThat(received.get()).isInstanceOf(ClosedChannelException.class);
    }

    @Test
    void respondingWithoutARequestIsRefused() {
        assertThat(subscribe(destination.respond(ControlMessage.registerResult(List.of(new RegisterResult(1, 2)))))
                .get()).isInstanceOfSatisfying(IllegalStateException.class,
                e -> assertThat(e).hasMessage("no request is waiting for a REGISTER RESULT (8)"));
    }

    @Test
    void theDestinationsDemandIsReadyOneRequestOneReadyAndNeverBeforeTheResponseOwed() {
        List<ControlMessage> received = new ArrayList<>();
        reactor.core.publisher.BaseSubscriber<ControlMessage> reader = new reactor.core.publisher.BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(org.reactivestreams.Subscription subscription) {
            }

            @Override
            protected void hookOnNext(ControlMessage message) {
                received.add(message);
            }
        };
        destination.incoming().subscribe(reader);
        subscribe(source.send(ControlMessage.registerFinished()));
        AtomicReference<Object> response = subscribe(
                source.exchange(ControlMessage.registerRequest(List.of(new RegisterRequest(0x1000, 0, 0)))));
        pump();
        assertThat(transcript).as("no READY without demand").isEmpty();

        reader.request(1);
        pump();
        assertThat(transcript).containsExactly("dst->src READY len=0 repeat=1",
                "src->dst REGISTER FINISHED len=0 repeat=1");
        // Demand for two: one READY, then the request, and no second READY until the response is given.
        reader.request(2);
        pump();
        assertThat(transcript).hasSize(4).endsWith("dst->src READY len=0 repeat=1",
                "src->dst REGISTER REQUEST len=24 repeat=1");
        assertThat(received).extracting(ControlMessage::type).containsExactly(ControlType.REGISTER_FINISHED,
                ControlType.REGISTER_REQUEST);
        subscribe(destination.respond(ControlMessage.registerResult(List.of(new RegisterResult(7, 0x7f00L)))));
        pump();
        assertThat(transcript).hasSize(6).endsWith("dst->src REGISTER RESULT len=16 repeat=1",
                "dst->src READY len=0 repeat=1");
        assertThat(response.get()).isInstanceOfSatisfying(ControlMessage.class, ControlMessage::release);
        assertThat(source.readyCredits()).isEqualTo(1);
        received.forEach(ControlMessage::release);
        reader.dispose();
    }

    @Test
    void aSecondReadyBeforeTheFirstWasUsedIsAProtocolError() {
        writeInbound(sourceChannel, ControlMessage.ready());
        assertThat(source.readyCredits()).isEqualTo(1);
        writeInbound(sourceChannel, ControlMessage.ready());
        assertThat(source.failure()).isInstanceOfSatisfying(ProtocolException.class, e -> assertThat(e)
                .hasMessage("destination sent a second READY before the source used the first"));
        // The SENDs still waiting for credit fail with it and are released.
        AtomicReference<Object> sent = subscribe(source.send(ControlMessage.registerFinished()));
        assertThat(sent.get()).isSameAs(source.failure());
    }

    private static void writeInbound(EmbeddedChannel channel, ControlMessage message) {
        ByteBuf buf = Unpooled.buffer();
        message.encode(buf);
        message.release();
        channel.writeInbound(buf);
    }
}
