package io.livemig.transport.rdma.channel;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/** Many small SENDs arrive once each and in order, with the writer paced by writability. */
@ParameterizedClass(name = "[{0}]", allowZeroInvocations = true)
@MethodSource("io.livemig.transport.rdma.TestProvider#selected")
class RdmaChannelOrderingTest extends RdmaChannelTestBase {

    private static final int COUNT = 100_000;

    @Test
    void deliversHundredThousandSendsInOrderWithoutLoss() throws Exception {
        SequenceReader reader = new SequenceReader(COUNT);
        RdmaServerChannel server = server(reader);
        SequenceWriter writer = new SequenceWriter(COUNT);
        connect(client(writer), server);
        try {
            assertThat(reader.received.get(WAIT_SECONDS * 2, TimeUnit.SECONDS)).isEqualTo(COUNT);
        } catch (TimeoutException e) {
            throw new AssertionError(reader.next + " of " + COUNT + " SENDs arrived within " + WAIT_SECONDS * 2
                    + " s; writer failure: " + writer.failure, e);
        }
        assertThat(writer.failure).isNull();
    }

    @Test
    void oneSendSlotCarriesEveryMessageInOrder() throws Exception {
        // One slot (and nothing inline): each SEND waits for the previous one's completion to free the slot.
        int count = 5_000;
        SequenceReader reader = new SequenceReader(count);
        RdmaServerChannel server = server(reader);
        SequenceWriter writer = new SequenceWriter(count);
        RdmaChannel client = connect(client(writer).option(RdmaChannelOption.SEND_BUFFER_COUNT, 1)
                .option(RdmaChannelOption.MAX_INLINE, 0), server);
        assertThat(client.config().getOption(RdmaChannelOption.SEND_BUFFER_COUNT)).isEqualTo(1);
        assertThat(reader.received.get(WAIT_SECONDS * 2, TimeUnit.SECONDS)).isEqualTo(count);
        assertThat(writer.failure).isNull();
    }

    /** Checks that every message is the next 8-byte sequence number, and completes when all have arrived. */
    static final class SequenceReader extends ChannelInboundHandlerAdapter {
        private final int count;
        final CompletableFuture<Integer> received = new CompletableFuture<>();
        /** The next sequence number expected; read by the test thread for the message of a timeout. */
        volatile long next;

        SequenceReader(int count) {
            this.count = count;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            try {
                long sequence = buf.readLong();
                if (sequence != next || buf.isReadable()) {
                    received.completeExceptionally(new AssertionError("expected " + next + ", got "
                            + sequence + " with " + buf.readableBytes() + " bytes left"));
                }
                next++;
                if (next == count) {
                    received.complete(count);
                }
            } finally {
                buf.release();
            }
        }
    }

    /** Writes 8-byte sequence numbers while the channel is writable, resuming when it becomes writable again. */
    static final class SequenceWriter extends ChannelInboundHandlerAdapter {
        private final int count;
        private long next;
        int unwritableEvents;
        volatile Throwable failure;

        SequenceWriter(int count) {
            this.count = count;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            writeWhileWritable(ctx);
            ctx.fireChannelActive();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                writeWhileWritable(ctx);
            } else {
                unwritableEvents++;
            }
        }

        private void writeWhileWritable(ChannelHandlerContext ctx) {
            while (next < count && ctx.channel().isWritable()) {
                ctx.write(ctx.alloc().buffer(8).writeLong(next++)).addListener(future -> {
                    if (!future.isSuccess() && failure == null) {
                        failure = future.cause();
                    }
                });
            }
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            failure = cause;
        }
    }
}
