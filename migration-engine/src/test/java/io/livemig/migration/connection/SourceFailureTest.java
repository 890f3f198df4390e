package io.livemig.migration.connection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.livemig.migration.api.MigrationFailedException;
import io.livemig.migration.api.SourceController;
import io.livemig.migration.auth.AuthKey;
import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.Capabilities;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.status.FailureReason;
import io.livemig.migration.status.MigrationInfo;
import io.livemig.migration.status.MigrationStatus;
import io.livemig.transport.rdma.channel.RdmaAcceptDecision;
import io.livemig.transport.rdma.channel.RdmaChannel;
import io.livemig.transport.rdma.channel.RdmaChannelOption;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import io.livemig.transport.rdma.channel.RdmaServerChannel;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The source says which kind of failure ended it, in the same words in its API exception, its {@code error-desc}
 * (so the command line's "migration failed:" line and HMP's {@code info migrate}): each test stands up one kind of
 * wrong peer and checks the exact reason and sentence.
 */
class SourceFailureTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(1);
    private static final AuthKey KEY = AuthKey.of("0123456789abcdef0123456789abcdef".getBytes());

    private EventLoopGroup group;
    private SoftFabrics soft;
    private Channel server;

    @BeforeEach
    void start() {
        soft = new SoftFabrics();
        group = soft.group;
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null) {
            server.close().awaitUninterruptibly(10, TimeUnit.SECONDS);
        }
        soft.close();
    }

    private RdmaDeviceFactory inJvm() {
        return soft.inJvm();
    }

    /** Migrates to {@code port} and returns the failed migration's last snapshot, checking the exception agrees. */
    private MigrationInfo migrateAndFail(RdmaDeviceFactory devices, int port, FailureReason expected, AuthKey key)
            throws Exception {
        try (RamBlocks ram = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 1 << 20)));
                SourceController source = SourceController.builder(ram).devices(devices).eventLoopGroup(group)
                        .timeout(TIMEOUT).authKey(key).build()) {
            Throwable[] thrown = new Throwable[1];
            assertThatThrownBy(() -> source.migrate(new MigrationUri("127.0.0.1", port)).blockLast(Duration.ofSeconds(30)))
                    .isInstanceOfSatisfying(MigrationFailedException.class, e -> thrown[0] = e);
            MigrationFailedException failed = (MigrationFailedException) thrown[0];
            MigrationInfo info = source.info();
            assertThat(info.status()).isEqualTo(MigrationStatus.FAILED);
            assertThat(failed.reason()).isEqualTo(expected);
            assertThat(failed).hasMessage("migration failed: " + info.errorDesc());
            return info;
        }
    }

    /** A soft-wire listener on the in-JVM fabric whose acceptor answers with {@code accept} and whose children run {@code onActive}. */
    private int rogue(byte[] accept, Consumer<ChannelHandlerContext> onActive) {
        ServerBootstrap bootstrap = new ServerBootstrap().group(group).channel(RdmaServerChannel.class)
                .option(RdmaChannelOption.ACCEPTOR, (remote, privateData) -> RdmaAcceptDecision.accept(accept))
                .childHandler(new ChannelInitializer<RdmaChannel>() {
                    @Override
                    protected void initChannel(RdmaChannel channel) {
                        channel.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelActive(ChannelHandlerContext ctx) {
                                onActive.accept(ctx);
                            }

                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                ReferenceCountUtil.release(msg); // hears nothing, answers nothing
                            }
                        });
                    }
                });
        MigrationChannelOptions.applyToServer(bootstrap, inJvm());
        server = bootstrap.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).syncUninterruptibly()
                .channel();
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    @Test
    void aPortNobodyListensOnIsNothingListening() throws Exception {
        MigrationInfo info = migrateAndFail(inJvm(), 40_999, FailureReason.NOTHING_LISTENING, null);
        assertThat(info.errorDesc()).isEqualTo("nothing is listening on 127.0.0.1:40999 (is the destination running?)");
    }

    @Test
    void aPlainTcpServerSpeakingGarbageIsNotAPeer() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread.ofPlatform().daemon().name("garbage-server").start(() -> {
                try (Socket peer = listener.accept()) {
                    peer.getOutputStream().write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".repeat(4)
                            .getBytes());
                    peer.getOutputStream().flush();
                    peer.getInputStream().readAllBytes();
                } catch (IOException e) {
                    // the source hung up
                }
            });
            MigrationInfo info = migrateAndFail(RdmaDeviceFactory.named("soft"), listener.getLocalPort(),
                    FailureReason.NOT_A_PEER, null);
            assertThat(info.errorDesc()).isEqualTo("127.0.0.1:" + listener.getLocalPort() + " is not a livemig/QEMU "
                    + "peer: it does not speak the RDMA connection protocol");
        }
    }

    @Test
    void anAcceptWithoutVersion1CapabilitiesIsNotAPeer() throws Exception {
        int port = rogue(new byte[] {0, 0, 0, 7, 0, 0, 0, 0}, ctx -> { });
        MigrationInfo info = migrateAndFail(inJvm(), port, FailureReason.NOT_A_PEER, null);
        assertThat(info.errorDesc()).isEqualTo("127.0.0.1:" + port + " is not a livemig/QEMU peer: the capabilities in "
                + "its accept are version 7, not 1");
    }

    @Test
    void aFirstControlMessageThatIsNoControlHeaderIsNotAPeer() throws Exception {
        int port = rogue(Capabilities.offer(false).toBytes(),
                ctx -> ctx.writeAndFlush(Unpooled.wrappedBuffer("SSH-2.0-OpenSSH_9.6\r\n".getBytes())));
        MigrationInfo info = migrateAndFail(inJvm(), port, FailureReason.NOT_A_PEER, null);
        assertThat(info.errorDesc()).isEqualTo("127.0.0.1:" + port + " is not a livemig/QEMU peer: its first control "
                + "message is not valid: control message too long: length 1397966893 exceeds the maximum 524272");
    }

    @Test
    void aPeerThatHangsUpAfterTheConnectIsLost() throws Exception {
        int port = rogue(Capabilities.offer(false).toBytes(), ctx -> ctx.close());
        MigrationInfo info = migrateAndFail(inJvm(), port, FailureReason.PEER_LOST, null);
        assertThat(info.errorDesc()).isEqualTo("peer lost: the connection to the destination was closed (the "
                + "destination stopped or the link failed)");
    }

    @Test
    void aPeerThatNeverGrantsAReadyTimesOut() throws Exception {
        int port = rogue(Capabilities.offer(false).toBytes(), ctx -> { });
        MigrationInfo info = migrateAndFail(inJvm(), port, FailureReason.PEER_TIMED_OUT, null);
        assertThat(info.errorDesc()).isEqualTo("peer timed out: sending the migration stream timed out after 1000 ms");
    }

    @Test
    void aDestinationWithAnotherKeyRejectsAuthentication() throws Exception {
        try (DestinationServer keyed = DestinationServer.listen(group, inJvm(),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), DestinationServer.Admission.withKey(KEY))) {
            int port = keyed.localAddress().getPort();
            MigrationInfo info = migrateAndFail(inJvm(), port, FailureReason.REJECTED_AUTHENTICATION,
                    AuthKey.of("fedcba9876543210fedcba9876543210".getBytes()));
            assertThat(info.errorDesc()).isEqualTo("the destination at 127.0.0.1:" + port + " rejected the connection: "
                    + "authentication failed (check --auth-key-file on both ends)");
        }
    }
}
