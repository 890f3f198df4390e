package io.livemig.migration.control;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;

/**
 * Gives a stream transport (Netty's local channel may coalesce writes) the message boundaries an RDMA
 * SEND has: a control message delimits itself, its {@code len} at offset 0 counting the payload after
 * the 16-byte header. Test infrastructure only; the RDMA channel needs no framing.
 */
public final class ControlFraming {

    private ControlFraming() {
    }

    /** A decoder that cuts the stream into whole control messages. */
    public static LengthFieldBasedFrameDecoder decoder() {
        return new LengthFieldBasedFrameDecoder(512 * 1024, 0, 4, 12, 0);
    }

    /** A channel initializer putting the framing in front of {@code endpoint}. */
    public static ChannelHandler pipeline(ControlEndpoint endpoint) {
        return new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(decoder(), endpoint);
            }
        };
    }
}
