package io.livemig.migration.connection;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.migration.api.DestinationController;
import io.livemig.migration.api.SourceController;
import io.livemig.migration.auth.AuthKey;
import io.livemig.migration.auth.AuthProof;
import io.livemig.migration.control.SourceControl;
import io.livemig.migration.destination.IncomingMigration;
import io.livemig.migration.params.MigrationCapability;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.Capabilities;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.protocol.MultifdSession;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.status.MigrationStatus;
import io.livemig.transport.rdma.channel.RdmaAcceptDecision;
import io.livemig.transport.rdma.channel.RdmaChannel;
import io.livemig.transport.rdma.channel.RdmaChannelOption;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import io.livemig.transport.rdma.channel.RdmaServerChannel;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Parallel channels ({@code multifd}): a migration over 2 and 4 RC connections arrives byte for byte (x-verify);
 * a destination that clears the bit gets one connection; an extra channel that names no running migration is
 * rejected, one without a session is refused as busy, and the running migration's own extras are admitted (with the
 * key's proof when there is one). Both soft fabrics.
 */
@ParameterizedClass(name = "[{0}]")
@ValueSource(strings = {"soft-tcp", "in-jvm"})
class MultifdTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final long MIB = 1 << 20;
    private static final AuthKey KEY = AuthKey.of("0123456789abcdef0123456789abcdef".getBytes());

    @Parameter
    String fabricName;
    private EventLoopGroup group;
    private SoftFabrics soft;
    private final List<String> rejections = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() {
        soft = new SoftFabrics();
        group = soft.group;
    }

    @AfterEach
    void stop() throws InterruptedException {
        soft.close();
    }

    private RdmaDeviceFactory devices() {
        return soft.devices(fabricName);
    }

    /** The provider, counting devices opened: a client channel opens one each, so this counts connections. */
    private RdmaDeviceFactory counting(AtomicInteger opened) {
        RdmaDeviceFactory real = devices();
        return () -> {
            opened.incrementAndGet();
            return real.open();
        };
    }

    @ParameterizedTest(name = "channels={0}, pinAll={1}")
    @org.junit.jupiter.params.provider.CsvSource({"2, false", "4, false", "4, true"})
    void aMigrationOverSeveralChannelsArrivesByteForByte(int channels, boolean pinAll) throws Exception {
        AtomicInteger sourceConnections = new AtomicInteger();
        try (RamBlocks target = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 16 * MIB),
                        new BlockListEntry("vga.vram", 3 * MIB)));
                RamBlocks source = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 16 * MIB),
                        new BlockListEntry("vga.vram", 3 * MIB)));
                DestinationController destination = DestinationController.builder().devices(devices())
                        .eventLoopGroup(group).blocks(target).timeout(TIMEOUT).authKey(KEY).build();
                SourceController controller = SourceController.builder(source).devices(counting(sourceConnections))
                        .eventLoopGroup(group).timeout(TIMEOUT).authKey("0123456789abcdef0123456789abcdef".getBytes())
                        .multifdChannelBytes(0).build()) {
            fill(source.get(0).memory(), 1);
            fill(source.get(1).memory(), 2);
            InetSocketAddress address = destination.listen(new MigrationUri("127.0.0.1", 0));
            controller.setCapability(MigrationCapability.MULTIFD, true);
            controller.setCapability(MigrationCapability.X_VERIFY, true);
            controller.setCapability(MigrationCapability.RDMA_PIN_ALL, pinAll);
            controller.setParameters(MigrationParameters.DEFAULTS.withMaxBandwidth(0).withMultifdChannels(channels));

            controller.migrate(new MigrationUri("127.0.0.1", address.getPort())).blockLast(TIMEOUT);

            assertThat(controller.info().status()).isEqualTo(MigrationStatus.COMPLETED);
            // The extra channels join while the migration runs (StripedDataPath): a short one may end before the
            // last of them connected, and its connect is then abandoned. The striping itself is asserted below.
            assertThat(sourceConnections.get()).as("connections the source opened").isBetween(1, channels);
            // What the extra channels carried is counted, and is part of what was written.
            assertThat(controller.info().ram().multifdBytes()).as("multifd-bytes")
                    .isBetween(0L, controller.info().ram().normalBytes());
            IncomingMigration received = destination.completion().block(TIMEOUT);
            assertThat(received.verified()).isTrue();
            assertThat(target.get(0).memory().mismatch(source.get(0).memory())).isEqualTo(-1);
            assertThat(target.get(1).memory().mismatch(source.get(1).memory())).isEqualTo(-1);
        }
    }

    /**
     * By default a channel is opened per 64 MiB of RAM: a 19 MiB migration with {@code multifd-channels} 4 negotiates
     * multifd and opens one connection, its extra channels costing more than they would carry.
     */
    @Test
    void aMigrationBelow64MiBOfRamOpensOneChannelByDefault() throws Exception {
        int mib = 19;
        AtomicInteger sourceConnections = new AtomicInteger();
        try (RamBlocks target = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", mib * MIB)));
                RamBlocks source = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", mib * MIB)));
                DestinationController destination = DestinationController.builder().devices(devices())
                        .eventLoopGroup(group).blocks(target).timeout(TIMEOUT).build();
                SourceController controller = SourceController.builder(source).devices(counting(sourceConnections))
                        .eventLoopGroup(group).timeout(TIMEOUT).build()) {
            fill(source.get(0).memory(), 5);
            InetSocketAddress address = destination.listen(new MigrationUri("127.0.0.1", 0));
            controller.setCapability(MigrationCapability.MULTIFD, true);
            controller.setParameters(MigrationParameters.DEFAULTS.withMaxBandwidth(0).withMultifdChannels(4));

            controller.migrate(new MigrationUri("127.0.0.1", address.getPort())).blockLast(TIMEOUT);

            assertThat(controller.info().status()).isEqualTo(MigrationStatus.COMPLETED);
            destination.completion().block(TIMEOUT);
            assertThat(target.get(0).memory().mismatch(source.get(0).memory())).isEqualTo(-1);
            assertThat(sourceConnections).as("connections the source opened").hasValue(1);
            assertThat(controller.info().ram().multifdBytes()).as("multifd-bytes").isZero();
        }
    }

    /** A destination that does not know the bit (an older livemig here; QEMU clears it the same way). */
    @Test
    void aDestinationThatClearsTheBitGetsOneChannel() throws Exception {
        List<String> offers = new CopyOnWriteArrayList<>();
        ServerBootstrap bootstrap = new ServerBootstrap().group(group).channel(RdmaServerChannel.class)
                .option(RdmaChannelOption.ACCEPTOR, (remote, privateData) -> {
                    offers.add(HexFormat.of().formatHex(privateData, 0, 8));
                    Capabilities offer = Capabilities.decode(privateData);
                    return RdmaAcceptDecision.accept(new Capabilities(offer.version(),
                            offer.flags() & (Capabilities.PIN_ALL | Capabilities.LIVEMIG)).toBytes());
                })
                .childHandler(new ChannelInboundHandlerAdapter());
        MigrationChannelOptions.applyToServer(bootstrap, devices());
        RdmaServerChannel server = (RdmaServerChannel) bootstrap
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
        try {
            SourceConnection connection = SourceConnection.connecting(group, devices(), server.localAddress(), false,
                    TIMEOUT, null, 4).block(TIMEOUT);
            try {
                assertThat(offers).containsExactly("0000000160000000");
                assertThat(connection.capabilities().multifd()).isFalse();
                assertThat(connection.capabilities().livemig()).isTrue();
                assertThat(connection.channelCount()).isEqualTo(1);
                assertThat(connection.dataPath()).isInstanceOf(RdmaChannelDataPath.class);
            } finally {
                connection.close();
            }
        } finally {
            server.close().awaitUninterruptibly(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void onlyTheRunningMigrationsOwnExtraChannelsAreAdmitted() throws Exception {
        try (DestinationServer server = DestinationServer.listen(group, devices(),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                new DestinationServer.Admission(KEY, (peer, why) -> rejections.add(why)))) {
            InetSocketAddress address = server.localAddress();
            SourceConnection migration = SourceConnection.connecting(group, devices(), address, false, TIMEOUT, KEY,
                    3).block(TIMEOUT);
            try {
                assertThat(migration.capabilities().multifd()).isTrue();
                assertThat(migration.channelCount()).as("before connectExtras()").isEqualTo(1);
                migration.connectExtras().block(TIMEOUT);
                assertThat(migration.channelCount()).isEqualTo(3);
                byte[] accept = migration.channel().peerPrivateData();
                assertThat(HexFormat.of().formatHex(accept, 0, 8)).isEqualTo("0000000160000000");
                MultifdSession session = MultifdSession.fromAccept(accept);
                assertThat(session).isNotNull();
                assertThat(rejections).isEmpty();

                // A stranger naming another session, with a valid proof of the key: not this migration's.
                ChannelFuture stranger = connect(address, sign(MultifdSession.random().toBytes(), 1));
                assertThat(SourceConnection.connectFailure(address, stranger.cause())).hasMessage("the destination at "
                        + where(address) + " refused an extra channel: it runs no migration with that multifd session");
                // The right session without the key's proof.
                ChannelFuture unsigned = connect(address, session.toBytes());
                assertThat(unsigned.isSuccess()).isFalse();
                // No session at all: a second migration, refused as busy.
                ChannelFuture second = connect(address, sign(Capabilities.livemigOffer(false, true).toBytes(), 2));
                assertThat(SourceConnection.connectFailure(address, second.cause()))
                        .hasMessage("the destination at " + where(address) + " is busy with another migration");
                assertThat(rejections).containsExactly(
                        "an extra channel for a migration this destination is not running",
                        "authentication failed: no authentication proof (the source has no --auth-key-file?)",
                        "busy with another migration");

                // The session with the key's proof: one more channel of the running migration.
                ChannelFuture own = connect(address, sign(session.toBytes(), 3));
                assertThat(own.isSuccess()).isTrue();
                own.channel().close().awaitUninterruptibly(10, TimeUnit.SECONDS);
            } finally {
                migration.close();
            }
            // Once the migration's first connection is gone, its session is, too.
            MultifdSession ended = MultifdSession.fromAccept(migration.channel().peerPrivateData());
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            ChannelFuture late;
            int attempt = 4;
            do {
                late = connect(address, sign(ended.toBytes(), attempt++));
                if (late.isSuccess()) {
                    late.channel().close().awaitUninterruptibly(10, TimeUnit.SECONDS);
                }
            } while (late.isSuccess() && System.nanoTime() < deadline);
            assertThat(SourceConnection.connectFailure(address, late.cause())).hasMessageContaining(
                    "refused an extra channel");
        }
    }

    /**
     * The WRITE path stripes over the channels as they join: before any extra joined everything goes over the
     * control channel; after two joined, a region registered before gets a registration on each new channel at its
     * first write there, one registered after is registered on all three at once, and every byte lands. A failed
     * extra connect fails the later writes with its cause; a deregistered region refuses writes.
     */
    @Test
    void writesStripeOverTheChannelsAsTheyJoinAndLandByteForByte() throws Exception {
        int chunk = 64 * 1024;
        try (DestinationServer server = DestinationServer.listen(group, devices(),
                        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                        new DestinationServer.Admission(KEY, (peer, why) -> rejections.add(why)));
                java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared()) {
            InetSocketAddress address = server.localAddress();
            reactor.core.publisher.Mono<DestinationConnection> accepted = server.connections().next().cache();
            accepted.subscribe();
            // The connection's own extra joins its own path; the test builds a second path over the same control
            // channel and joins extras to it itself, when it wants them.
            SourceConnection migration = SourceConnection.connecting(group, devices(), address, false, TIMEOUT, KEY,
                    2).block(TIMEOUT);
            RdmaChannel first = accepted.block(TIMEOUT).channel();
            MemorySegment target = arena.allocate(16L * chunk, 4096);
            io.livemig.transport.rdma.verbs.MemoryRegion remote = first.registerMemory(target,
                    java.util.EnumSet.of(io.livemig.transport.rdma.verbs.AccessFlag.LOCAL_WRITE,
                            io.livemig.transport.rdma.verbs.AccessFlag.REMOTE_WRITE));
            MemorySegment before = arena.allocate(8L * chunk, 4096);
            MemorySegment after = arena.allocate(8L * chunk, 4096);
            fill(before, 3);
            fill(after, 4);
            java.util.Set<io.livemig.transport.rdma.verbs.AccessFlag> local =
                    java.util.EnumSet.of(io.livemig.transport.rdma.verbs.AccessFlag.LOCAL_WRITE);
            List<RdmaChannel> extras = new java.util.ArrayList<>();
            try {
                StripedDataPath path = new StripedDataPath(migration.channel());
                java.util.concurrent.atomic.AtomicLong extraChannelBytes = new java.util.concurrent.atomic.AtomicLong();
                path.onExtraChannelBytes(extraChannelBytes::addAndGet);
                // The soft provider pins nothing: soft-dirty tracking stays open to its migrations.
                assertThat(path.pinsMemory()).isFalse();
                io.livemig.transport.rdma.verbs.MemoryRegion early = path.register(before, local);
                assertThat(StripedDataPath.registrations(early)).isEqualTo(1);
                // Chunks 0-3 of `before`, with only the control channel there.
                for (int c = 0; c < 4; c++) {
                    path.write(early, (long) c * chunk, chunk, remote.address() + (long) c * chunk, remote.rkey(), c)
                            .block(TIMEOUT);
                }
                assertThat(StripedDataPath.registrations(early)).as("no extra channel yet").isEqualTo(1);

                MultifdSession session = MultifdSession.fromAccept(migration.channel().peerPrivateData());
                for (int i = 0; i < 2; i++) {
                    ChannelFuture extra = connect(address, sign(session.toBytes(), 10 + i));
                    assertThat(extra.isSuccess()).isTrue();
                    extras.add((RdmaChannel) extra.channel());
                    path.join((RdmaChannel) extra.channel());
                }
                assertThat(path.laneCount()).isEqualTo(3);
                // Chunks 4-7 of `before` (stripes 4-7: lanes 1, 2, 0, 1), then all of `after` at 8-15.
                for (int c = 4; c < 8; c++) {
                    path.write(early, (long) c * chunk, chunk, remote.address() + (long) c * chunk, remote.rkey(), c)
                            .block(TIMEOUT);
                }
                assertThat(StripedDataPath.registrations(early)).as("registered on each joined channel's first use")
                        .isEqualTo(3);
                io.livemig.transport.rdma.verbs.MemoryRegion late = path.register(after, local);
                assertThat(StripedDataPath.registrations(late)).as("registered on every joined channel").isEqualTo(3);
                reactor.core.publisher.Flux.range(0, 8)
                        .flatMap(c -> path.write(late, (long) c * chunk, chunk,
                                remote.address() + (8L + c) * chunk, remote.rkey(), 8 + c))
                        .blockLast(TIMEOUT);
                // Stripes 4-7 went to lanes 1, 2, 0, 1 and stripes 8-15 to 2, 0, 1, 2, 0, 1, 2, 0: 8 chunks on extras.
                assertThat(extraChannelBytes).as("multifd-bytes").hasValue(8L * chunk);
                assertThat(target.asSlice(0, 8L * chunk).mismatch(before)).isEqualTo(-1);
                assertThat(target.asSlice(8L * chunk, 8L * chunk).mismatch(after)).isEqualTo(-1);

                early.deregister();
                assertThat(early.isRegistered()).isFalse();
                assertThat(StripedDataPath.registrations(early)).isZero();
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> path.write(early, 0, chunk,
                                remote.address(), remote.rkey(), 1).block(TIMEOUT))
                        .isInstanceOf(IllegalStateException.class).hasMessage("the memory region was deregistered");
                java.io.IOException refused = new java.io.IOException("the destination at " + where(address)
                        + " refused an extra channel: it runs no migration with that multifd session");
                path.fail(refused);
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> path.write(late, 0, chunk,
                        remote.address(), remote.rkey(), 0).block(TIMEOUT))
                        .satisfies(e -> assertThat(reactor.core.Exceptions.unwrap(e)).isSameAs(refused));
                late.deregister();
            } finally {
                for (RdmaChannel extra : extras) {
                    extra.close().awaitUninterruptibly(10, TimeUnit.SECONDS);
                }
                migration.close();
            }
        }
    }

    /** Closing a connection while its extra channels connect abandons them: the join ends, nothing stays open. */
    @Test
    void aConnectionClosedWhileItsExtrasConnectAbandonsThem() throws Exception {
        try (DestinationServer server = DestinationServer.listen(group, devices(),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                new DestinationServer.Admission(KEY, (peer, why) -> rejections.add(why)))) {
            SourceConnection migration = SourceConnection.connecting(group, devices(), server.localAddress(), false,
                    TIMEOUT, KEY, 8).block(TIMEOUT);
            migration.connectExtras();
            migration.close();
            // Either every extra joined before the close (and was closed with it) or the join ended with the close.
            reactor.core.publisher.Mono<Void> joined = migration.extrasJoined()
                    .onErrorResume(java.nio.channels.ClosedChannelException.class,
                            e -> reactor.core.publisher.Mono.empty());
            joined.block(TIMEOUT);
            assertThat(migration.channel().isOpen()).isFalse();
            assertThat(migration.channelCount()).isBetween(1, 8);
        }
    }

    private static byte[] sign(byte[] leading, int nonce) {
        return AuthProof.sign(KEY, leading, System.currentTimeMillis(),
                new byte[] {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, (byte) nonce}).toBytes();
    }

    private ChannelFuture connect(InetSocketAddress address, byte[] privateData) {
        Bootstrap bootstrap = new Bootstrap().group(group).channel(RdmaChannel.class)
                .option(RdmaChannelOption.CONNECT_PRIVATE_DATA, privateData)
                .handler(new SourceControl());
        MigrationChannelOptions.apply(bootstrap, devices());
        ChannelFuture connect = bootstrap.connect(address);
        assertThat(connect.awaitUninterruptibly(TIMEOUT.toMillis())).isTrue();
        return connect;
    }

    private static String where(InetSocketAddress address) {
        return address.getHostString() + ":" + address.getPort();
    }

    private static void fill(MemorySegment memory, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        for (long offset = 0; offset < memory.byteSize(); offset += 8) {
            memory.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, offset, random.nextLong());
        }
    }
}
