package io.livemig.transport.rdma.channel;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.transport.rdma.verbs.MemoryRegion;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import java.lang.foreign.Arena;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Close with work requests in flight, from any thread, and event-loop shutdown with open channels: every promise
 * ends, pending ones with {@link ClosedChannelException}, and (checked by the fixture) no descriptor or thread
 * outlives the test.
 */
@ParameterizedClass(name = "[{0}]", allowZeroInvocations = true)
@MethodSource("io.livemig.transport.rdma.TestProvider#selected")
class RdmaChannelCloseTest extends RdmaChannelTestBase {

    /** A server whose children never read, so the client's SENDs pile up in flight and in its outbound buffer. */
    private RdmaServerChannel stalledServer(CompletableFuture<Void> childInactive) throws Exception {
        return server(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                childInactive.complete(null);
                ctx.fireChannelInactive();
            }
        }, bootstrap -> bootstrap.childOption(ChannelOption.AUTO_READ, false));
    }

    @Test
    void closeWithOutstandingWorkRequestsFailsPendingWritesWithClosedChannelException() throws Exception {
        CompletableFuture<Void> childInactive = new CompletableFuture<>();
        RdmaServerChannel server = stalledServer(childInactive);
        RdmaChannel client = connect(client(new ChannelInboundHandlerAdapter()), server);
        MemoryRegion region = client.registerMemory(Arena.ofAuto().allocate(1 << 20, 4096), Set.of());

        List<ChannelFuture> writes = client.eventLoop().submit(() -> {
            List<ChannelFuture> futures = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                futures.add(client.write(Unpooled.wrappedBuffer(new byte[16 * 1024])));
                if (i % 50 == 0) {
                    // One-sided writes into our own region: the peer's rkey is not needed to keep them in flight.
                    futures.add(client.write(RdmaWrite.of(region, 0, 1 << 20, region.address(), region.rkey())));
                }
            }
            client.flush();
            return futures;
        }).get(WAIT_SECONDS, TimeUnit.SECONDS);
        ChannelFuture closed = client.close();

        assertThat(closed.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
        assertThat(closed.isSuccess()).isTrue();
        int failed = 0;
        for (ChannelFuture write : writes) {
            assertThat(write.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
            if (!write.isSuccess()) {
                failed++;
                assertThat(write.cause()).isInstanceOfAny(ClosedChannelException.class, RdmaException.class);
            }
        }
        assertThat(failed).as("writes still pending at close").isPositive();
        childInactive.get(WAIT_SECONDS, TimeUnit.SECONDS);
        assertThat(client.isOpen()).isFalse();
        assertThat(client.write(Unpooled.wrappedBuffer(new byte[1])).await().cause())
                .isInstanceOf(ClosedChannelException.class);
    }

    @Test
    void closeIsIdempotentFromManyThreads() throws Exception {
        CompletableFuture<Void> childInactive = new CompletableFuture<>();
        RdmaServerChannel server = stalledServer(childInactive);
        RdmaChannel client = connect(client(new ChannelInboundHandlerAdapter()), server);
        client.writeAndFlush(Unpooled.wrappedBuffer(new byte[1000]));

        CountDownLatch start = new CountDownLatch(1);
        List<Thread> closers = new ArrayList<>();
        List<ChannelFuture> futures = Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < 4; i++) {
            closers.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                futures.add(client.close());
            }));
        }
        start.countDown();
        for (Thread closer : closers) {
            closer.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
        }
        for (ChannelFuture future : futures) {
            assertThat(future.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
            assertThat(future.isSuccess()).isTrue();
        }
        childInactive.get(WAIT_SECONDS, TimeUnit.SECONDS);
        server.close().await(WAIT_SECONDS, TimeUnit.SECONDS);
        assertThat(server.isOpen()).isFalse();
    }

    @Test
    void eventLoopShutdownClosesOpenChannels() throws Exception {
        CompletableFuture<Void> childInactive = new CompletableFuture<>();
        RdmaServerChannel server = stalledServer(childInactive);
        RdmaChannel client = connect(client(new ChannelInboundHandlerAdapter()), server);
        ChannelFuture write = client.writeAndFlush(Unpooled.wrappedBuffer(new byte[1 << 20]));

        assertThat(group.shutdownGracefully(0, 5, TimeUnit.SECONDS).await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();

        assertThat(client.closeFuture().isDone()).isTrue();
        assertThat(server.closeFuture().isDone()).isTrue();
        assertThat(write.isDone()).isTrue();
    }
}
