package io.livemig.transport.rdma.channel;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import io.livemig.transport.rdma.verbs.WcStatus;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * An accepted connection that shares the protection domain of an earlier one
 * ({@link RdmaAcceptDecision#acceptSharingProtectionDomain}): a region registered through the first is writable with
 * its rkey through the second's queue pair, which is what a migration's extra channels rely on; without sharing,
 * the same write is refused (rkeys belong to a protection domain).
 */
@ParameterizedClass(name = "[{0}]", allowZeroInvocations = true)
@MethodSource("io.livemig.transport.rdma.TestProvider#selected")
class RdmaChannelSharedDomainTest extends RdmaChannelTestBase {

    private static final int REGION_SIZE = 1 << 16;
    /** The second connection's client end of the last {@link #writeThroughSecondConnection}. */
    private RdmaChannel lastClient;

    /** Records accepted children; the first registers the target region. */
    @ChannelHandler.Sharable
    static final class Children extends ChannelInboundHandlerAdapter {
        final List<RdmaChannel> accepted = new CopyOnWriteArrayList<>();
        final CompletableFuture<MemoryRegion> region = new CompletableFuture<>();

        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            RdmaChannel channel = (RdmaChannel) ctx.channel();
            if (accepted.isEmpty()) {
                region.complete(channel.registerMemory(Arena.ofAuto().allocate(REGION_SIZE, 4096),
                        Set.of(AccessFlag.LOCAL_WRITE, AccessFlag.REMOTE_WRITE)));
            }
            accepted.add(channel);
            ctx.fireChannelActive();
        }
    }

    private ChannelFuture writeThroughSecondConnection(boolean share, MemorySegment pattern, Children children)
            throws Exception {
        return writeThroughSecondConnection(share, false, pattern, children);
    }

    private ChannelFuture writeThroughSecondConnection(boolean share, boolean oneSided, MemorySegment pattern,
            Children children) throws Exception {
        RdmaServerChannel server = server(children, bootstrap -> bootstrap.option(RdmaChannelOption.ACCEPTOR,
                (remote, privateData) -> !share || children.accepted.isEmpty() ? RdmaAcceptDecision.accept(new byte[0])
                        : oneSided ? RdmaAcceptDecision.acceptOneSidedSharingProtectionDomain(new byte[0],
                                children.accepted.get(0))
                        : RdmaAcceptDecision.acceptSharingProtectionDomain(new byte[0], children.accepted.get(0))));
        connect(client(new ChannelInboundHandlerAdapter()), server);
        MemoryRegion target = children.region.get(WAIT_SECONDS, TimeUnit.SECONDS);
        RdmaChannel second = connect(client(new ChannelInboundHandlerAdapter())
                .option(RdmaChannelOption.ONE_SIDED, oneSided), server);
        lastClient = second;
        awaitTrue(() -> children.accepted.size() == 2, "the second connection to be accepted");
        MemoryRegion local = second.registerMemory(pattern, Set.of(AccessFlag.LOCAL_WRITE));
        ChannelFuture written = second.writeAndFlush(RdmaWrite.of(local, 0, REGION_SIZE, target.address(),
                target.rkey()));
        assertThat(written.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
        return written;
    }

    private static MemorySegment pattern() {
        byte[] bytes = new byte[REGION_SIZE];
        new Random(19).nextBytes(bytes);
        MemorySegment memory = Arena.ofAuto().allocate(REGION_SIZE, 4096);
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, memory, 0, REGION_SIZE);
        return memory;
    }

    @Test
    void regionOfTheFirstConnectionIsWritableThroughTheSecond() throws Exception {
        Children children = new Children();
        MemorySegment pattern = pattern();
        ChannelFuture written = writeThroughSecondConnection(true, pattern, children);

        assertThat(written.cause()).isNull();
        assertThat(children.region.get().segment().mismatch(pattern)).isEqualTo(-1);
    }

    /**
     * A connection accepted for one-sided operations gets the smallest rings, whatever the server's child options
     * say (a migration's extra channel), and still takes the WRITE into the first connection's region; so does the
     * client end that set {@link RdmaChannelOption#ONE_SIDED}.
     */
    @Test
    void aOneSidedConnectionHasTheSmallestRingsAndTakesTheWrite() throws Exception {
        Children children = new Children();
        MemorySegment pattern = pattern();
        ChannelFuture written = writeThroughSecondConnection(true, true, pattern, children);

        assertThat(written.cause()).isNull();
        assertThat(children.region.get().segment().mismatch(pattern)).isEqualTo(-1);
        int slot = RdmaChannel.ONE_SIDED_RING_SLOT;
        RdmaChannelConfig first = children.accepted.get(0).config();
        RdmaChannelConfig oneSided = children.accepted.get(1).config();
        assertThat(first.getOption(RdmaChannelOption.RECEIVE_BUFFER_SIZE)).isNotEqualTo(slot);
        assertThat(oneSided.getOption(RdmaChannelOption.RECEIVE_BUFFER_SIZE)).isEqualTo(slot);
        assertThat(oneSided.getOption(RdmaChannelOption.RECEIVE_BUFFER_COUNT)).isEqualTo(4);
        assertThat(oneSided.getOption(RdmaChannelOption.SEND_BUFFER_COUNT)).isEqualTo(1);
        // The client end, one-sided by its option (a migration's extra channel at the source).
        RdmaChannelConfig client = lastClient.config();
        assertThat(client.getOption(RdmaChannelOption.RECEIVE_BUFFER_SIZE)).isEqualTo(slot);
        assertThat(client.getOption(RdmaChannelOption.RECEIVE_BUFFER_COUNT)).isEqualTo(4);
        assertThat(client.getOption(RdmaChannelOption.SEND_BUFFER_COUNT)).isEqualTo(1);
    }

    @Test
    void withoutSharingTheSameWriteIsRefused() throws Exception {
        Children children = new Children();
        ChannelFuture written = writeThroughSecondConnection(false, pattern(), children);

        assertThat(written.cause()).isInstanceOf(RdmaException.class);
        assertThat(((RdmaException) written.cause()).status()).isEqualTo(WcStatus.REM_ACCESS_ERR);
    }

    @Test
    void domainOutlivesTheFirstConnectionUntilTheSecondCloses() throws Exception {
        Children children = new Children();
        MemorySegment pattern = pattern();
        writeThroughSecondConnection(true, pattern, children);

        // Closing the first while the second is open must not destroy the domain under the second's queue pair;
        // the leak check after the test sees the domain go with the second.
        assertThat(children.accepted.get(0).close().await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
        assertThat(children.accepted.get(1).isOpen()).isTrue();
        assertThat(children.accepted.get(1).close().await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
    }
}
