package io.livemig.migration.control;

import io.livemig.migration.protocol.ControlMessage;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;
import java.util.List;

/**
 * Writes each outbound {@link ControlMessage} as one buffer holding exactly its
 * {@link ControlMessage#encodedLength()} bytes, header and payload (spec section 3.1): one buffer is one
 * SEND on the RDMA channel. The buffer comes from the channel's allocator.
 *
 * <p>The message is released once encoded ({@link MessageToMessageEncoder}'s contract), so a QEMU FILE
 * payload is freed as soon as its bytes are copied; the buffer belongs to the channel from then on. If
 * encoding throws, the buffer is released too and the write fails with an
 * {@link io.netty.handler.codec.EncoderException}.
 *
 * <p>Stateless: one instance can serve every channel.
 */
@ChannelHandler.Sharable
public final class ControlMessageEncoder extends MessageToMessageEncoder<ControlMessage> {

    /** Creates the handler. */
    public ControlMessageEncoder() {
        super(ControlMessage.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, ControlMessage message, List<Object> out) {
        int length = message.encodedLength();
        ByteBuf buf = ctx.alloc().buffer(length, length);
        boolean added = false;
        try {
            message.encode(buf);
            out.add(buf);
            added = true;
        } finally {
            if (!added) {
                buf.release();
            }
        }
    }
}
