package io.livemig.migration.control;

import io.livemig.migration.protocol.ControlDecoder;
import io.livemig.migration.protocol.ControlMessage;
import io.livemig.migration.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.MessageToMessageDecoder;
import java.util.List;
import java.util.Objects;

/**
 * Turns each received SEND into its {@link ControlMessage}, with {@link ControlDecoder}'s validation (spec
 * section 3.1). Each inbound {@link ByteBuf} must be exactly one message, as the RDMA channel delivers a
 * receive completion; over a stream transport put a framing decoder in front.
 *
 * <p>Buffers: the inbound buffer is released after decoding (Netty's {@link MessageToMessageDecoder}
 * contract); the message passed on is reference-counted and a QEMU FILE payload is a retained slice of
 * that buffer, so whoever handles the message releases it.
 *
 * <p>Errors: a violation reaches {@code exceptionCaught} as a {@link DecoderException} whose cause is the
 * {@link ProtocolException} (Netty wraps every exception a decoder throws); {@link #protocolCause} unwraps
 * it. Nothing is passed on for that buffer and nothing is retained.
 *
 * <p>Stateless: one instance can serve every channel of a role.
 */
@ChannelHandler.Sharable
public final class ControlMessageDecoder extends MessageToMessageDecoder<ByteBuf> {

    private final ControlDecoder decoder;

    /**
     * Creates a handler.
     *
     * @param decoder {@link ControlDecoder#forSource()} or {@link ControlDecoder#forDestination()}, which
     *     differ in the {@code repeat} limit
     */
    public ControlMessageDecoder(ControlDecoder decoder) {
        super(ByteBuf.class);
        this.decoder = Objects.requireNonNull(decoder, "decoder");
    }

    /**
     * The protocol violation behind a pipeline exception.
     *
     * @param cause what {@code exceptionCaught} received
     * @return the {@link ProtocolException}, itself or as the cause of (nested) {@link DecoderException}s;
     *     null when {@code cause} is something else
     */
    public static ProtocolException protocolCause(Throwable cause) {
        Throwable t = cause;
        while (t instanceof DecoderException && t.getCause() != null) {
            t = t.getCause();
        }
        return t instanceof ProtocolException protocol ? protocol : null;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf received, List<Object> out) {
        out.add(decoder.decode(received));
    }
}
