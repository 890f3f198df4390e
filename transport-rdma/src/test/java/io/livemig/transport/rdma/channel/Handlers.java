package io.livemig.transport.rdma.channel;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.concurrent.CompletableFuture;

/** Handlers the channel tests share. */
final class Handlers {

    private Handlers() {
    }

    /** Writes every inbound buffer back, flushing at the end of each read. */
    @ChannelHandler.Sharable
    static final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }
    }

    /** Copies inbound bytes into an array until it is full, then completes. */
    static final class Collect extends ChannelInboundHandlerAdapter {
        private byte[] bytes = new byte[0];
        private int received;
        private CompletableFuture<byte[]> done = new CompletableFuture<>();

        /** Expects {@code length} bytes from now on; must be called on the channel's loop or before traffic. */
        CompletableFuture<byte[]> expect(int length) {
            bytes = new byte[length];
            received = 0;
            done = new CompletableFuture<>();
            return done;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            try {
                int length = buf.readableBytes();
                if (received + length > bytes.length) {
                    done.completeExceptionally(new AssertionError("received " + (received + length)
                            + " bytes, expected " + bytes.length));
                    return;
                }
                buf.readBytes(bytes, received, length);
                received += length;
                if (received == bytes.length) {
                    done.complete(bytes);
                }
            } finally {
                buf.release();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            done.completeExceptionally(cause);
        }
    }
}
