package io.livemig.transport.rdma.channel;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A reader that takes one message per millisecond, with {@code autoRead} off and a receive window of four slots,
 * against a writer that may not survive a single receiver-not-ready NAK (RNR retry count 0): credits hold the writer
 * back, its writability toggles, and every message arrives.
 */
@ParameterizedClass(name = "[{0}]", allowZeroInvocations = true)
@MethodSource("io.livemig.transport.rdma.TestProvider#selected")
class RdmaChannelBackpressureTest extends RdmaChannelTestBase {

    private static final int COUNT = 300;
    private static final int SIZE = 4096;

    @Test
    void slowReaderSlowsTheWriterWithoutReceiverNotReadyFailures() throws Exception {
        CompletableFuture<Integer> received = new CompletableFuture<>();
        RdmaServerChannel server = server(new ChannelInboundHandlerAdapter() {
            private int next;

            @Override
            public void channelActive(ChannelHandlerContext ctx) {
                ctx.read();
                ctx.fireChannelActive();
            }

            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ByteBuf buf = (ByteBuf) msg;
                try {
                    int sequence = buf.getInt(buf.readerIndex());
                    if (sequence != next++ || buf.readableBytes() != SIZE) {
                        received.completeExceptionally(new AssertionError("message " + sequence + " out of order"));
                    }
                } finally {
                    buf.release();
                }
                if (next == COUNT) {
                    received.complete(next);
                }
                ctx.executor().schedule(() -> ctx.read(), 1, TimeUnit.MILLISECONDS);
            }
        }, bootstrap -> bootstrap
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(RdmaChannelOption.RECEIVE_BUFFER_COUNT, 4)
                .childOption(RdmaChannelOption.RECEIVE_BUFFER_SIZE, SIZE));

        SizedWriter writer = new SizedWriter();
        RdmaChannel client = connect(client(writer)
                .option(RdmaChannelOption.RNR_RETRY_COUNT, 0)
                .option(RdmaChannelOption.RECEIVE_BUFFER_COUNT, 4)
                .option(RdmaChannelOption.RECEIVE_BUFFER_SIZE, SIZE)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(4 * SIZE, 8 * SIZE)),
                server);

        assertThat(received.get(WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo(COUNT);
        assertThat(writer.failure).isNull();
        assertThat(client.eventLoop().submit(() -> writer.unwritableEvents).get()).isPositive();
        assertThat(client.isActive()).isTrue();
        assertThat(client.isWritable()).isTrue();
    }

    /** Writes numbered {@value #SIZE}-byte messages while writable. */
    static final class SizedWriter extends ChannelInboundHandlerAdapter {
        private int next;
        int unwritableEvents;
        volatile Throwable failure;

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
            while (next < COUNT && ctx.channel().isWritable()) {
                ByteBuf buf = ctx.alloc().buffer(SIZE).writeInt(next++);
                buf.writeZero(SIZE - 4);
                ctx.write(buf).addListener(future -> {
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
