package io.livemig.migration.connection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.livemig.migration.api.DestinationController;
import io.livemig.migration.api.MigrationFailedException;
import io.livemig.migration.api.SourceController;
import io.livemig.migration.auth.AuthKey;
import io.livemig.migration.auth.AuthProof;
import io.livemig.migration.control.SourceControl;
import io.livemig.migration.destination.IncomingMigration;
import io.livemig.migration.observe.MigrationRecorder;
import io.livemig.migration.params.MigrationCapability;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.Capabilities;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.status.MigrationStatus;
import io.livemig.transport.rdma.channel.RdmaChannel;
import io.livemig.transport.rdma.channel.RdmaChannelOption;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import io.livemig.transport.rdma.verbs.DeviceContext;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoopGroup;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
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
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Who gets in: with a key, a source without it, with another, with a replayed or a stale proof is rejected at
 * connect, before the destination allocates a protection domain (so before any memory could be registered), and
 * its memory stays untouched; a source with the key migrates. A second source while one is connected is refused as
 * busy. Both soft fabrics.
 */
@ParameterizedClass(name = "[{0}]")
@ValueSource(strings = {"soft-tcp", "in-jvm"})
class AdmissionTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final long MIB = 1 << 20;
    private static final AuthKey KEY = AuthKey.of("0123456789abcdef0123456789abcdef".getBytes());
    private static final AuthKey OTHER_KEY = AuthKey.of("fedcba9876543210fedcba9876543210".getBytes());

    @Parameter
    String fabricName;
    private EventLoopGroup group;
    private SoftFabrics soft;
    /** Protection domains the destination's device allocated: one per connection given resources. */
    private final AtomicInteger destinationPds = new AtomicInteger();
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

    /** The provider, counting the protection domains it allocates. */
    private RdmaDeviceFactory countingDevices() {
        RdmaDeviceFactory real = devices();
        return () -> {
            DeviceContext device = real.open();
            return (DeviceContext) Proxy.newProxyInstance(DeviceContext.class.getClassLoader(),
                    new Class<?>[] {DeviceContext.class}, (proxy, method, args) -> {
                        if (method.getName().equals("allocateProtectionDomain")) {
                            destinationPds.incrementAndGet();
                        }
                        try {
                            return method.invoke(device, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
        };
    }

    private void rejected(InetSocketAddress peer, String why) {
        rejections.add(why);
    }

    private static String where(InetSocketAddress address) {
        return address.getHostString() + ":" + address.getPort();
    }

    @Test
    void withAKeyOnlyASourceWithTheSameKeyCanWriteIntoTheDestination() throws Exception {
        RecordingRecorder recorder = new RecordingRecorder();
        try (RamBlocks target = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 4 * MIB)));
                RamBlocks source = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 4 * MIB)));
                DestinationController destination = DestinationController.builder().devices(countingDevices())
                        .eventLoopGroup(group).blocks(target).timeout(TIMEOUT).recorder(recorder)
                        .authKey(KEY).onRejected(this::rejected).build()) {
            fill(source.get(0).memory(), 7);
            InetSocketAddress address = destination.listen(new MigrationUri("127.0.0.1", 0));
            MigrationUri uri = new MigrationUri("127.0.0.1", address.getPort());
            String refused = "the destination at " + where(address) + " rejected the connection: authentication "
                    + "failed (check --auth-key-file on both ends)";

            // The hostile peer of issue 18: a source that speaks the protocol, first without a key, then with another.
            for (AuthKey key : new AuthKey[] {null, OTHER_KEY}) {
                try (SourceController stranger = SourceController.builder(source).devices(devices())
                        .eventLoopGroup(group).timeout(TIMEOUT).authKey(key).build()) {
                    assertThatThrownBy(() -> stranger.migrate(uri).blockLast(TIMEOUT))
                            .isInstanceOf(MigrationFailedException.class);
                    assertThat(stranger.info().status()).isEqualTo(MigrationStatus.FAILED);
                    assertThat(stranger.info().errorDesc()).isEqualTo(refused);
                }
            }
            assertThat(rejections).containsExactly(
                    "authentication failed: no authentication proof (the source has no --auth-key-file?)",
                    "authentication failed: wrong authentication proof (another key?)");
            assertThat(destinationPds).hasValue(0);
            assertThat(recorder.destinationEvents).isEmpty();
            assertThat(target.get(0).memory().mismatch(MemorySegment.ofArray(new byte[(int) (4 * MIB)])))
                    .isEqualTo(-1);
            assertThat(destination.info().status()).isEqualTo(MigrationStatus.NONE);

            try (SourceController owner = SourceController.builder(source).devices(devices()).eventLoopGroup(group)
                    .timeout(TIMEOUT).authKey("0123456789abcdef0123456789abcdef".getBytes()).build()) {
                owner.setCapability(MigrationCapability.X_VERIFY, true);
                owner.setParameters(MigrationParameters.DEFAULTS.withMaxBandwidth(0));
                owner.migrate(uri).blockLast(TIMEOUT);
                assertThat(owner.info().status()).isEqualTo(MigrationStatus.COMPLETED);
            }
            IncomingMigration received = destination.completion().block(TIMEOUT);
            assertThat(received.verified()).isTrue();
            assertThat(target.get(0).memory().mismatch(source.get(0).memory())).isEqualTo(-1);
            assertThat(destinationPds).hasValue(1);
            assertThat(recorder.destinationEvents).contains("started");
        }
    }

    @Test
    void aReplayedOrStaleProofIsRejectedAtConnect() throws Exception {
        RdmaDeviceFactory devices = countingDevices();
        try (DestinationServer server = DestinationServer.listen(group, devices,
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                new DestinationServer.Admission(KEY, this::rejected))) {
            InetSocketAddress address = server.localAddress();
            byte[] captured = AuthProof.sign(KEY, Capabilities.offer(false).toBytes(), System.currentTimeMillis(),
                    new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}).toBytes();
            ChannelFuture first = connect(address, captured);
            assertThat(first.isSuccess()).as("the first use of the proof").isTrue();
            // What the destination echoes is QEMU's 8 bytes, not the proof.
            assertThat(((RdmaChannel) first.channel()).peerPrivateData()).isEqualTo(Capabilities.offer(false).toBytes());
            first.channel().close().awaitUninterruptibly(10, TimeUnit.SECONDS);
            int pds = destinationPds.get();

            ChannelFuture replay = connect(address, captured);
            byte[] stale = AuthProof.sign(KEY, Capabilities.offer(false).toBytes(),
                    System.currentTimeMillis() - 61_000, new byte[12]).toBytes();
            ChannelFuture old = connect(address, stale);
            for (ChannelFuture refused : List.of(replay, old)) {
                assertThat(SourceConnection.connectFailure(address, refused.cause())).hasMessage("the destination at "
                        + where(address) + " rejected the connection: authentication failed (check --auth-key-file "
                        + "on both ends)");
            }
            assertThat(rejections).containsExactly("authentication failed: replayed authentication proof",
                    "authentication failed: stale authentication proof (timestamp more than 60 s from this host's "
                            + "clock)");
            assertThat(destinationPds).hasValue(pds);
        }
    }

    @Test
    void aSecondSourceIsRefusedAsBusyUntilTheFirstLeaves() throws Exception {
        try (DestinationServer server = DestinationServer.listen(group, devices(),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                new DestinationServer.Admission(null, this::rejected))) {
            InetSocketAddress address = server.localAddress();
            ChannelFuture first = connect(address, Capabilities.offer(false).toBytes());
            assertThat(first.isSuccess()).isTrue();
            ChannelFuture second = connect(address, Capabilities.offer(false).toBytes());
            assertThat(SourceConnection.connectFailure(address, second.cause()))
                    .hasMessage("the destination at " + where(address) + " is busy with another migration");
            assertThat(rejections).containsExactly("busy with another migration");

            first.channel().close().awaitUninterruptibly(10, TimeUnit.SECONDS);
            // The slot frees on the server's loop after the close: retry until accepted, within a deadline.
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            ChannelFuture third;
            do {
                third = connect(address, Capabilities.offer(false).toBytes());
            } while (!third.isSuccess() && System.nanoTime() < deadline);
            assertThat(third.isSuccess()).isTrue();
            third.channel().close().awaitUninterruptibly(10, TimeUnit.SECONDS);
        }
    }

    /**
     * The accept's 8 bytes: a livemig source's bit 30 comes back (with the key's proof accepted), QEMU's capabilities
     * come back as QEMU's destination would echo them, and each accepted connection knows which peer it serves.
     */
    @Test
    void theDestinationEchoesTheLivemigBitOnlyToASourceThatSetIt() throws Exception {
        List<DestinationConnection> accepted = new CopyOnWriteArrayList<>();
        try (DestinationServer server = DestinationServer.listen(group, devices(),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                new DestinationServer.Admission(KEY, this::rejected))) {
            server.connections().subscribe(accepted::add);
            InetSocketAddress address = server.localAddress();
            String[][] cases = {{"livemig", "0000000140000001"}, {"qemu", "0000000100000001"}};
            for (String[] c : cases) {
                Capabilities offer = c[0].equals("livemig") ? Capabilities.livemigOffer(true) : Capabilities.offer(true);
                long deadline = System.nanoTime() + TIMEOUT.toNanos();
                ChannelFuture connected;
                int attempt = 0;
                do {
                    // A fresh nonce per attempt; the previous connection's slot frees on the server's loop after
                    // its close, so the second case may be refused as busy for a moment.
                    connected = connect(address, AuthProof.sign(KEY, offer.toBytes(), System.currentTimeMillis(),
                            new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, (byte) attempt, (byte) (attempt >> 8),
                                    (byte) c[0].length()}).toBytes());
                    attempt++;
                } while (!connected.isSuccess() && System.nanoTime() < deadline);
                assertThat(connected.isSuccess()).as(c[0]).isTrue();
                byte[] echo = ((RdmaChannel) connected.channel()).peerPrivateData();
                assertThat(java.util.HexFormat.of().formatHex(echo, 0, 8)).as(c[0]).isEqualTo(c[1]);
                int expected = c[0].equals("livemig") ? 1 : 2;
                while (accepted.size() < expected && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
                DestinationConnection connection = accepted.get(expected - 1);
                assertThat(connection.capabilities().livemig()).as(c[0]).isEqualTo(c[0].equals("livemig"));
                assertThat(connection.capabilities().pinAll()).as(c[0]).isTrue();
                connected.channel().close().awaitUninterruptibly(10, TimeUnit.SECONDS);
            }
            assertThat(rejections).allMatch("busy with another migration"::equals);
        }
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

    private static void fill(MemorySegment memory, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        for (long offset = 0; offset < memory.byteSize(); offset += 8) {
            memory.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, offset, random.nextLong());
        }
    }

    /** Every destination-side call of the recorder. */
    private static final class RecordingRecorder implements MigrationRecorder {
        final List<String> destinationEvents = new CopyOnWriteArrayList<>();

        @Override
        public void migrationStarted(Side side, Mode mode) {
            if (side == Side.DESTINATION) {
                destinationEvents.add("started");
            }
        }

        @Override
        public void registration(Side side, int chunks, long nanos) {
            if (side == Side.DESTINATION) {
                destinationEvents.add("registration");
            }
        }

        @Override
        public void pinnedBytes(Side side, long deltaBytes) {
            if (side == Side.DESTINATION) {
                destinationEvents.add("pinned");
            }
        }
    }
}
