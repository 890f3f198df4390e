package io.livemig.migration.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.migration.protocol.ControlMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

/** The outbound handler: each message becomes one buffer of exactly its encoded length, then is released. */
class ControlMessageEncoderTest {

    private static final ControlMessageEncoder ENCODER = new ControlMessageEncoder();

    @Test
    void writesEverySpecVectorAsOneBuffer() {
        for (ControlVectors.Vector vector : ControlVectors.ALL) {
            EmbeddedChannel channel = new EmbeddedChannel(ENCODER);
            ControlMessage message = vector.message().get();
            assertThat(channel.writeOutbound(message)).isTrue();
            ByteBuf out = channel.readOutbound();
            try {
                assertThat(ByteBufUtil.hexDump(out)).as(vector.name()).isEqualTo(vector.plain());
                assertThat(out.readableBytes()).isEqualTo(vector.plain().length() / 2);
                assertThat(out.maxCapacity()).isEqualTo(out.readableBytes());
            } finally {
                out.release();
            }
            assertThat((Object) channel.readOutbound()).as("one SEND per message").isNull();
            assertThat(message.refCnt()).as(vector.name()).isZero();
            assertThat(channel.finishAndReleaseAll()).isFalse();
        }
    }

    @Test
    void releasesTheQemuFileDataOnceCopied() {
        EmbeddedChannel channel = new EmbeddedChannel(ENCODER);
        ByteBuf data = PooledByteBufAllocator.DEFAULT.buffer(3).writeBytes(new byte[] {1, 2, 3});
        channel.writeOutbound(ControlMessage.qemuFile(data));
        assertThat(data.refCnt()).isZero();
        ByteBuf out = channel.readOutbound();
        assertThat(ByteBufUtil.hexDump(out)).isEqualTo("00000003" + "00000003" + "00000000" + "00000000" + "010203");
        out.release();
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void allocatesFromTheChannelsAllocator() {
        ByteBufAllocator allocator = new PooledByteBufAllocator(false);
        EmbeddedChannel channel = new EmbeddedChannel();
        channel.config().setAllocator(allocator);
        channel.pipeline().addLast(ENCODER);
        channel.writeOutbound(ControlMessage.ready());
        ByteBuf out = channel.readOutbound();
        assertThat(out.alloc()).isSameAs(allocator);
        out.release();
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void roundTripsEveryTypeThroughBothHandlers() {
        for (ControlVectors.Vector vector : ControlVectors.ALL) {
            EmbeddedChannel channel = new EmbeddedChannel(ENCODER, new ControlMessageDecoder(vector.receiver()));
            ControlMessage sent = vector.message().get();
            ControlMessage expected = vector.message().get();
            channel.writeOutbound(sent);
            ByteBuf wire = channel.readOutbound();
            channel.writeInbound(wire);
            ControlMessage received = channel.readInbound();
            try {
                assertThat(received).as(vector.name()).isEqualTo(expected);
                assertThat(received.encodedLength()).isEqualTo(expected.encodedLength());
            } finally {
                received.release();
                expected.release();
            }
            assertThat(wire.refCnt()).isZero();
            assertThat(channel.finishAndReleaseAll()).isFalse();
        }
    }

    @Test
    void passesOtherMessagesThrough() {
        EmbeddedChannel channel = new EmbeddedChannel(ENCODER);
        ByteBuf raw = Unpooled.wrappedBuffer(new byte[] {1});
        channel.writeOutbound(raw);
        assertThat((Object) channel.readOutbound()).isSameAs(raw);
        raw.release();
        assertThat(ENCODER.isSharable()).isTrue();
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }
}
