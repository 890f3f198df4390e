package io.livemig.transport.rdma.channel;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import io.livemig.transport.rdma.verbs.WcStatus;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * RDMA WRITE and READ through the channel against a region the peer registered and advertised in a SEND. The peer
 * checks the written bytes as soon as the SEND written after the WRITE arrives: RC delivers that SEND only after the
 * WRITE's bytes are placed. A {@code ByteBuf} over memory registered on the channel is sent from there without a copy.
 */
@ParameterizedClass(name = "[{0}]", allowZeroInvocations = true)
@MethodSource("io.livemig.transport.rdma.TestProvider#selected")
class RdmaChannelOneSidedTest extends RdmaChannelTestBase {

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

    /** Random bytes in a fresh native allocation that lives as long as something references it. */
    private static MemorySegment randomMemory(int size, long seed) {
        MemorySegment memory = Arena.ofAuto().allocate(size, 4096);
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, memory, 0, size);
        return memory;
    }

    private static byte[] random(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static byte[] concat(byte[]... parts) {
        ByteBuffer all = ByteBuffer.allocate(Arrays.stream(parts).mapToInt(part -> part.length).sum());
        for (byte[] part : parts) {
            all.put(part);
        }
        return all.array();
    }

    @Test
    void sendFromRegisteredMemoryIsNotCopied() throws Exception {
        RdmaServerChannel server = server(new Handlers.Echo());
        Handlers.Collect collect = new Handlers.Collect();
        RdmaChannel client = connect(client(collect), server);
        MemorySegment memory = randomMemory(64 * 1024, 11);
        client.registerMemory(memory, Set.of());
        // Readable bytes at an offset inside the region: the SGE must start at the buffer's reader index.
        MemorySegment payload = memory.asSlice(1000, 3000);
        ByteBuf registered = Unpooled.wrappedBuffer(payload.asByteBuffer());
        byte[] before = random(100, 12);
        byte[] after = random(200, 13);
        byte[] expected = concat(before, payload.toArray(ValueLayout.JAVA_BYTE), after);
        var echoed = client.eventLoop().submit(() -> collect.expect(expected.length))
                .get(WAIT_SECONDS, TimeUnit.SECONDS);
        AtomicInteger refCntOnCompletion = new AtomicInteger(-1);

        // All on the loop, so no completion can be handled between the flush and the look at the buffer.
        Object[] atFlush = client.eventLoop().submit(() -> {
            client.write(Unpooled.wrappedBuffer(before));
            ChannelFuture sent = client.write(registered);
            sent.addListener(future -> refCntOnCompletion.set(registered.refCnt()));
            client.writeAndFlush(Unpooled.wrappedBuffer(after));
            return new Object[] {sent, sent.isDone(), registered.refCnt()};
        }).get(WAIT_SECONDS, TimeUnit.SECONDS);
        ChannelFuture sent = (ChannelFuture) atFlush[0];

        assertThat(atFlush[1]).as("promise done right after the flush").isEqualTo(false);
        assertThat(atFlush[2]).as("refCnt while its SEND is in flight").isEqualTo(1);
        assertThat(echoed.get(WAIT_SECONDS, TimeUnit.SECONDS)).as("bytes in write order").isEqualTo(expected);
        assertThat(sent.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
        assertThat(sent.cause()).isNull();
        assertThat(refCntOnCompletion.get()).as("released once, by the channel, on completion").isZero();
        assertThat(client.eventLoop().submit(client::registeredSends).get(WAIT_SECONDS, TimeUnit.SECONDS))
                .as("SENDs from registered memory").isEqualTo(1L);
    }

    @Test
    void sendsOutsideLiveRegisteredMemoryAreCopied() throws Exception {
        RdmaServerChannel server = server(new Handlers.Echo());
        Handlers.Collect collect = new Handlers.Collect();
        RdmaChannel client = connect(client(collect), server);
        int oneSend = client.config().getReceiveBufferSize();
        // Registered, but larger than one SEND: it must be split into slots, so copied.
        MemorySegment large = randomMemory(oneSend + 1, 21);
        client.registerMemory(large, Set.of());
        // Registered, then deregistered: its lkey is dead.
        MemorySegment dead = randomMemory(4096, 22);
        client.registerMemory(dead, Set.of()).deregister();
        byte[] heap = random(500, 23);
        byte[] unregistered = random(700, 24);
        ByteBuf pooledDirect = client.alloc().directBuffer(unregistered.length).writeBytes(unregistered);
        byte[] expected = concat(heap, unregistered, large.toArray(ValueLayout.JAVA_BYTE),
                dead.toArray(ValueLayout.JAVA_BYTE));
        var echoed = client.eventLoop().submit(() -> collect.expect(expected.length))
                .get(WAIT_SECONDS, TimeUnit.SECONDS);

        ChannelFuture last = client.eventLoop().submit(() -> {
            client.write(Unpooled.wrappedBuffer(heap));
            client.write(pooledDirect);
            client.write(Unpooled.wrappedBuffer(large.asByteBuffer()));
            return client.writeAndFlush(Unpooled.wrappedBuffer(dead.asByteBuffer()));
        }).get(WAIT_SECONDS, TimeUnit.SECONDS);

        assertThat(echoed.get(WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo(expected);
        assertThat(last.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
        assertThat(last.cause()).isNull();
        assertThat(client.eventLoop().submit(client::registeredSends).get(WAIT_SECONDS, TimeUnit.SECONDS))
                .as("SENDs from registered memory").isZero();
    }
}
