package io.livemig.transport.rdma.channel;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import io.livemig.transport.rdma.verbs.WcStatus;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;

/**
 * RDMA WRITE and READ through the channel against a region the peer registered and advertised in a SEND. The peer
 * checks the written bytes as soon as the SEND written after the WRITE arrives: RC delivers that SEND only after the
 * WRITE's bytes are placed.
 */
abstract class RdmaChannelOneSidedTest extends RdmaChannelTestBase {

    private static final int REGION_SIZE = 1 << 20;

    /** The server side: registers a region, advertises (address, rkey), then checks what the client says it wrote. */
    static final class Target extends ChannelInboundHandlerAdapter {
        final CompletableFuture<Boolean> verified = new CompletableFuture<>();
        MemoryRegion region;

        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            MemorySegment memory = Arena.ofAuto().allocate(REGION_SIZE, 4096);
            for (int i = 0; i < REGION_SIZE; i++) {
                memory.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 7));
            }
            region = ((RdmaChannel) ctx.channel()).registerMemory(memory,
                    Set.of(AccessFlag.LOCAL_WRITE, AccessFlag.REMOTE_WRITE, AccessFlag.REMOTE_READ));
            ctx.writeAndFlush(ctx.alloc().buffer(12).writeLong(region.address()).writeInt(region.rkey()));
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            try {
                int length = buf.readInt();
                long crc = buf.readLong();
                verified.complete(crc(region.segment().asSlice(0, length)) == crc);
            } finally {
                buf.release();
            }
        }
    }

    /** The client side: learns the peer's region from its first SEND. */
    static final class Source extends ChannelInboundHandlerAdapter {
        final CompletableFuture<long[]> remote = new CompletableFuture<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            try {
                remote.complete(new long[] {buf.readLong(), buf.readInt()});
            } finally {
                buf.release();
            }
        }
    }

    static long crc(MemorySegment bytes) {
        CRC32 crc = new CRC32();
        crc.update(bytes.asByteBuffer());
        return crc.getValue();
    }

    @Test
    void writeIsPlacedBeforeTheSendWrittenAfterIt() throws Exception {
        Target target = new Target();
        RdmaServerChannel server = server(target);
        Source source = new Source();
        RdmaChannel client = connect(client(source), server);
        long[] remote = source.remote.get(WAIT_SECONDS, TimeUnit.SECONDS);

        MemorySegment memory = Arena.ofAuto().allocate(REGION_SIZE, 4096);
        byte[] pattern = new byte[REGION_SIZE];
        new Random(3).nextBytes(pattern);
        MemorySegment.copy(MemorySegment.ofArray(pattern), 0, memory, 0, REGION_SIZE);
        MemoryRegion local = client.registerMemory(memory, Set.of(AccessFlag.LOCAL_WRITE));

        ChannelFuture written = client.write(RdmaWrite.of(local, 0, REGION_SIZE, remote[0], (int) remote[1]));
        client.writeAndFlush(client.alloc().buffer(12).writeInt(REGION_SIZE).writeLong(crc(memory)));

        assertThat(target.verified.get(WAIT_SECONDS, TimeUnit.SECONDS)).as("bytes placed before the SEND").isTrue();
        assertThat(written.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
        assertThat(written.cause()).isNull();
    }

    @Test
    void readCopiesThePeersRegion() throws Exception {
        Target target = new Target();
        RdmaServerChannel server = server(target);
        Source source = new Source();
        RdmaChannel client = connect(client(source), server);
        long[] remote = source.remote.get(WAIT_SECONDS, TimeUnit.SECONDS);

        MemoryRegion local = client.registerMemory(Arena.ofAuto().allocate(REGION_SIZE, 4096),
                Set.of(AccessFlag.LOCAL_WRITE));
        ChannelFuture read = client.writeAndFlush(new RdmaRead(local, 0, REGION_SIZE, remote[0], (int) remote[1]));

        assertThat(read.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
        assertThat(read.cause()).isNull();
        assertThat(local.segment().mismatch(target.region.segment())).isEqualTo(-1);
    }

    @Test
    void writeWithABadRkeyFailsWithTheCompletionStatus() throws Exception {
        Target target = new Target();
        RdmaServerChannel server = server(target);
        Source source = new Source();
        RdmaChannel client = connect(client(source), server);
        long[] remote = source.remote.get(WAIT_SECONDS, TimeUnit.SECONDS);
        MemoryRegion local = client.registerMemory(Arena.ofAuto().allocate(4096, 4096), Set.of());

        ChannelFuture written = client.writeAndFlush(RdmaWrite.of(local, 0, 4096, remote[0], (int) remote[1] + 1));

        assertThat(written.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
        assertThat(written.cause()).isInstanceOf(RdmaException.class);
        assertThat(((RdmaException) written.cause()).status()).isEqualTo(WcStatus.REM_ACCESS_ERR);
        assertThat(client.closeFuture().await(WAIT_SECONDS, TimeUnit.SECONDS)).as("closed after the error").isTrue();
    }
}
