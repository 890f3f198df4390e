package io.livemig.migration.connection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.livemig.migration.destination.IncomingMigration;
import io.livemig.migration.destination.MigrationDestination;
import io.livemig.migration.api.DestinationController;
import io.livemig.migration.api.SourceController;
import io.livemig.migration.api.Workload;
import io.livemig.migration.params.MigrationCapability;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.status.MigrationInfo;
import io.livemig.migration.status.MigrationStatus;
import io.livemig.migration.stream.DeviceState;
import reactor.core.publisher.Mono;
import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.ram.RamBlock;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.api.SourcePipeline;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import io.netty.channel.EventLoopGroup;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Whole live migrations over the soft RDMA provider, through the Netty RDMA channel: capabilities in CM
 * private data, the control channel as plain SENDs, pages as one-sided RDMA WRITEs. Both registration modes;
 * a workload writes during the migration; the destination must equal the source at the pause, byte for byte.
 * Every test runs on both fabrics, {@code [soft-tcp]} and {@code [in-jvm]}.
 */
@ParameterizedClass(name = "[{0}]")
@ValueSource(strings = {"soft-tcp", "in-jvm"})
class MigrationOverSoftRdmaTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final long MIB = 1 << 20;

    /** The soft provider's fabric of this invocation: {@code soft-tcp} or {@code in-jvm}. */
    @Parameter
    String fabricName;
    private EventLoopGroup group;
    private SoftFabrics soft;

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

    @ParameterizedTest(name = "pinAll={0}")
    @ValueSource(booleans = {false, true})
    void liveMigrationArrivesByteForByte(boolean pinAll) throws Exception {
        RdmaDeviceFactory devices = devices();
        try (RamBlocks source = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 8 * MIB),
                new BlockListEntry("zeros", 2 * MIB), new BlockListEntry("odd", 3 * MIB + 5 * 4096),
                new BlockListEntry("big", (2L << 30) + MIB)));
                DestinationController destination = DestinationController.builder().devices(devices)
                        .eventLoopGroup(group).memoryLimit(3L << 30).timeout(TIMEOUT).build()) {
            fillRandom(source.get(0).memory(), 11);
            fillRandom(source.get(2).memory(), 12);
            // The block over 2 GiB: data below and above the 2^31 offset, the rest zero (COMPRESS when dynamic).
            fillRandom(source.get(3).memory().asSlice(1L << 30, 5 * 4096), 14);
            fillRandom(source.get(3).memory().asSlice(2L << 30, MIB), 15);
            InetSocketAddress address = destination.listen(
                    new MigrationUri(InetAddress.getLoopbackAddress().getHostAddress(), 0));

            AtomicBoolean paused = new AtomicBoolean();
            Thread workload = Thread.ofPlatform().name("workload").start(() -> {
                SplittableRandom random = new SplittableRandom(13);
                RamBlock ram = source.get(0);
                while (!paused.get()) {
                    ram.putLong(random.nextLong(ram.usedLength() / 8) * 8, random.nextLong());
                }
            });
            Workload application = new Workload() {
                @Override
                public Mono<Void> pause() {
                    return Mono.fromRunnable(() -> {
                        paused.set(true);
                        try {
                            workload.join();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    });
                }

                @Override
                public byte[] saveState() {
                    return "non-live state".getBytes();
                }
            };
            List<MigrationInfo> progress;
            try (SourceController controller = SourceController.builder(source).devices(devices)
                    .eventLoopGroup(group).workload(application).timeout(TIMEOUT).build()) {
                controller.setCapability(MigrationCapability.RDMA_PIN_ALL, pinAll);
                controller.setCapability(MigrationCapability.X_VERIFY, true);
                controller.setParameters(MigrationParameters.DEFAULTS.withMaxBandwidth(0));
                progress = controller.migrate(new MigrationUri(address.getHostString(), address.getPort()))
                        .collectList().block(TIMEOUT.multipliedBy(2));
                assertThat(controller.info().status()).isEqualTo(MigrationStatus.COMPLETED);
            } finally {
                paused.set(true);
                workload.join();
            }
            IncomingMigration result = destination.completion().block(TIMEOUT);
            try (RamBlocks received = result.blocks()) {
                for (int i = 0; i < source.size(); i++) {
                    assertThat(received.get(i).memory().mismatch(source.get(i).memory()))
                            .as("first differing byte of %s", source.get(i).name()).isEqualTo(-1);
                }
                assertThat(new String(result.state().get(SourcePipeline.STATE_SECTION))).isEqualTo("non-live state");
                assertThat(result.verified()).isTrue();
            }
            assertThat(destination.info().status()).isEqualTo(MigrationStatus.COMPLETED);
            assertThat(progress).extracting(MigrationInfo::status).containsSubsequence(MigrationStatus.SETUP,
                    MigrationStatus.ACTIVE, MigrationStatus.DEVICE,
                    MigrationStatus.COMPLETED);
            MigrationInfo done = progress.getLast();
            assertThat(done.ram().dirtySyncCount()).isGreaterThanOrEqualTo(2);
            assertThat(done.downtime()).isPresent();
            long bigZeroChunks = (2L << 30) / MIB - 1; // every chunk of "big" but the two with data
            long zeroPagesOfBulkRound = (2 * MIB + bigZeroChunks * MIB) / 4096;
            if (pinAll) {
                assertThat(done.ram().duplicate()).isZero();
            } else {
                assertThat(done.ram().duplicate()).isGreaterThanOrEqualTo(zeroPagesOfBulkRound);
                assertThat(result.zeroPages()).isEqualTo(done.ram().duplicate());
            }
            assertThat(done.ram().normalBytes()).isEqualTo(done.ram().normal() * 4096);
        }
    }

    @Test
    void aSourceSpeakingAnotherProtocolVersionIsRejectedAtConnect() throws Exception {
        RdmaDeviceFactory devices = devices();
        try (DestinationServer server = DestinationServer.listen(group, devices,
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            io.netty.bootstrap.Bootstrap bootstrap = new io.netty.bootstrap.Bootstrap().group(group)
                    .channel(io.livemig.transport.rdma.channel.RdmaChannel.class)
                    .option(io.livemig.transport.rdma.channel.RdmaChannelOption.CONNECT_PRIVATE_DATA,
                            new io.livemig.migration.protocol.Capabilities(2, 0).toBytes())
                    .handler(new io.livemig.migration.control.SourceControl());
            MigrationChannelOptions.apply(bootstrap, devices);
            io.netty.channel.ChannelFuture connect = bootstrap.connect(server.localAddress());
            assertThat(connect.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(connect.cause())
                    .isInstanceOf(io.livemig.transport.rdma.channel.RdmaConnectionRejectedException.class);
            InetSocketAddress where = server.localAddress();
            assertThat(SourceConnection.connectFailure(where, connect.cause())).hasMessage("the destination at "
                    + where.getHostString() + ":" + where.getPort() + " rejected the connection: unsupported RDMA capabilities");
        }
    }

    @Test
    void listeningWhereADestinationListensSaysCannotListenOnceWithTheReason() throws Exception {
        RdmaDeviceFactory devices = devices();
        try (DestinationServer first = DestinationServer.listen(group, devices,
                new InetSocketAddress("127.0.0.1", 0))) {
            int port = first.localAddress().getPort();
            InetSocketAddress taken = new InetSocketAddress("127.0.0.1", port);
            assertThatThrownBy(() -> DestinationServer.listen(group, devices, taken))
                    .isInstanceOf(java.io.IOException.class)
                    .hasMessage("cannot listen on rdma:127.0.0.1:" + port + ": address already in use");
        }
    }

    @Test
    void listeningOnAHostThatDoesNotResolveSaysSo() {
        assertThatThrownBy(() -> DestinationServer.listen(group, devices(),
                InetSocketAddress.createUnresolved("nohost.invalid", 29200)))
                .isInstanceOf(java.io.IOException.class)
                .hasMessage("cannot listen on rdma:nohost.invalid:29200: cannot resolve nohost.invalid");
    }

    @Test
    void anErrorFromTheDestinationMidRoundFailsTheSourceCleanly() throws Exception {
        RdmaDeviceFactory devices = devices();
        try (RamBlocks source = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 16 * MIB)));
                DestinationServer server = DestinationServer.listen(group, devices,
                        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            fillRandom(source.get(0).memory(), 21);
            byte[] before = source.get(0).memory().toArray(ValueLayout.JAVA_BYTE);
            // The destination cannot pin its third chunk: it fails in the middle of the bulk round.
            java.util.concurrent.atomic.AtomicInteger registrations = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.CompletableFuture<IncomingMigration> incoming = server.migrations(c ->
                    new MigrationDestination(c.control(), (memory, access) -> {
                        if (registrations.incrementAndGet() == 3) {
                            throw new java.io.IOException("cannot pin 1048576 bytes: out of memory");
                        }
                        return c.registrar().register(memory, access);
                    }, false, null, 1L << 30, MIB, TIMEOUT)).next().toFuture();
            try (SourceController controller = SourceController.builder(source).devices(devices)
                    .eventLoopGroup(group).timeout(TIMEOUT).build()) {
                controller.setParameters(MigrationParameters.DEFAULTS.withMaxBandwidth(0));
                // One chunk per request, so that the third registration comes mid-round.
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> controller.migrate(
                        new MigrationUri("127.0.0.1", server.localAddress().getPort())).blockLast(TIMEOUT))
                        .isInstanceOf(io.livemig.migration.api.MigrationFailedException.class);
                MigrationInfo failed = controller.info();
                assertThat(failed.status()).isEqualTo(MigrationStatus.FAILED);
                assertThat(failed.errorDesc()).contains("peer sent ERROR");
            }
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> incoming.get(30, TimeUnit.SECONDS))
                    .hasRootCauseMessage("cannot pin 1048576 bytes: out of memory");
            assertThat(source.get(0).memory().mismatch(MemorySegment.ofArray(before))).isEqualTo(-1);
        }
    }

    @Test
    void aWriteTheDestinationsAdapterRefusesFailsTheSourceNamingTheWrite() throws Exception {
        RdmaDeviceFactory devices = devices();
        try (RamBlocks source = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 4 * MIB)));
                DestinationServer server = DestinationServer.listen(group, devices,
                        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            fillRandom(source.get(0).memory(), 31);
            byte[] before = source.get(0).memory().toArray(ValueLayout.JAVA_BYTE);
            // The destination answers the second chunk's registration with an rkey it has already invalidated:
            // the source's WRITE into chunk 1 then ends in a remote access error that only the source sees.
            java.util.concurrent.atomic.AtomicInteger registrations = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.CompletableFuture<IncomingMigration> incoming = server.migrations(c ->
                    new MigrationDestination(c.control(), (memory, access) -> {
                        var region = c.registrar().register(memory, access);
                        if (registrations.incrementAndGet() == 2) {
                            region.deregister();
                        }
                        return region;
                    }, false, null, 1L << 30, MIB, TIMEOUT)).next().toFuture();
            try (SourceController controller = SourceController.builder(source).devices(devices)
                    .eventLoopGroup(group).timeout(TIMEOUT).build()) {
                controller.setParameters(MigrationParameters.DEFAULTS.withMaxBandwidth(0));
                assertThatThrownBy(() -> controller.migrate(
                        new MigrationUri("127.0.0.1", server.localAddress().getPort())).blockLast(TIMEOUT))
                        .isInstanceOf(io.livemig.migration.api.MigrationFailedException.class);
                MigrationInfo failed = controller.info();
                assertThat(failed.status()).isEqualTo(MigrationStatus.FAILED);
                assertThat(failed.errorDesc()).isEqualTo("peer lost: an RDMA WRITE to block 0 ('pc.ram') at offset 0x100000,"
                        + " 1048576 bytes, was refused by the destination (remote access error)");
            }
            // The destination never saw the write: it fails only because its source went away, never completes.
            assertThatThrownBy(() -> incoming.get(30, TimeUnit.SECONDS))
                    .isInstanceOf(java.util.concurrent.ExecutionException.class);
            assertThat(source.get(0).memory().mismatch(MemorySegment.ofArray(before))).isEqualTo(-1);
        }
    }

    @Test
    void aSourceThatSendsWithoutAReadyCreditFailsTheDestinationCleanly() throws Exception {
        RdmaDeviceFactory devices = devices();
        try (DestinationServer server = DestinationServer.listen(group, devices,
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            java.util.concurrent.CompletableFuture<DestinationConnection> accepted = server.connections().next()
                    .toFuture();
            // A rogue source: QEMU FILE messages the moment it is connected, before any READY.
            io.netty.channel.ChannelPromise sentAll = null;
            io.netty.bootstrap.Bootstrap bootstrap = new io.netty.bootstrap.Bootstrap().group(group)
                    .channel(io.livemig.transport.rdma.channel.RdmaChannel.class)
                    .option(io.livemig.transport.rdma.channel.RdmaChannelOption.CONNECT_PRIVATE_DATA,
                            io.livemig.migration.protocol.Capabilities.offer(false).toBytes())
                    .handler(new io.netty.channel.ChannelInboundHandlerAdapter());
            MigrationChannelOptions.apply(bootstrap, devices);
            io.netty.channel.Channel rogue = bootstrap.connect(server.localAddress()).sync().channel();
            DestinationConnection connection = accepted.get(30, TimeUnit.SECONDS);
            java.util.List<io.netty.channel.ChannelFuture> sends = new java.util.ArrayList<>();
            for (int i = 0; i < 3; i++) {
                io.netty.buffer.ByteBuf data = io.netty.buffer.Unpooled.buffer(8).writeLong(0x5145564d00000003L);
                io.livemig.migration.protocol.ControlMessage message =
                        io.livemig.migration.protocol.ControlMessage.qemuFile(data);
                io.netty.buffer.ByteBuf out = rogue.alloc().directBuffer(message.encodedLength());
                message.encode(out);
                message.release();
                sends.add(rogue.writeAndFlush(out));
            }
            for (io.netty.channel.ChannelFuture send : sends) {
                send.await(30, TimeUnit.SECONDS);
            }
            // A send completes at the rogue before the destination's loop polls the receive: wait for the refusal,
            // so that the migration below does not grant a READY first (which would make the messages legal).
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (connection.control().failure() == null && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            // The destination's control endpoint refused the first message; its migration fails at once with it.
            try (connection) {
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> new MigrationDestination(connection.control(),
                        connection.registrar(), false, null, 1L << 30, MIB, TIMEOUT).run(status -> { }).block())
                        .isInstanceOf(io.livemig.migration.protocol.ProtocolException.class)
                        .hasMessage("source sent QEMU FILE (3) without a READY credit");
            }
            // The destination hung up on it.
            assertThat(rogue.closeFuture().await(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void aParkedVmsDeviceStateTravelsInsteadOfTheApplicationsState() throws Exception {
        RdmaDeviceFactory devices = devices();
        byte[] capture;
        try (var in = new java.util.zip.GZIPInputStream(getClass().getResourceAsStream(
                "/io/livemig/migration/stream/qemu/none.stream.gz"))) {
            capture = in.readAllBytes();
        }
        // -M none's device tail: the last 674 bytes of its capture (QemuStreamCaptureTest).
        DeviceState parked = DeviceState.of("none", java.util.Arrays.copyOfRange(capture, capture.length - 674,
                capture.length));
        try (RamBlocks source = RamBlocks.allocate(List.of(new BlockListEntry("ram0", 2 * MIB)));
                DestinationController destination = DestinationController.builder().devices(devices)
                        .eventLoopGroup(group).expectedMachine("none").timeout(TIMEOUT).build()) {
            fillRandom(source.get(0).memory().asSlice(0, MIB), 21);
            InetSocketAddress address = destination.listen(
                    new MigrationUri(InetAddress.getLoopbackAddress().getHostAddress(), 0));
            Workload vm = new Workload() {
                @Override
                public byte[] saveState() {
                    throw new AssertionError("a parked VM has no application state");
                }

                @Override
                public java.util.Optional<DeviceState> deviceState() {
                    return java.util.Optional.of(parked);
                }
            };
            try (SourceController controller = SourceController.builder(source).devices(devices)
                    .eventLoopGroup(group).workload(vm).timeout(TIMEOUT).build()) {
                // x-verify is a livemig section: never sent with a device state.
                controller.setCapability(MigrationCapability.X_VERIFY, true);
                controller.migrate(new MigrationUri(address.getHostString(), address.getPort()))
                        .collectList().block(TIMEOUT.multipliedBy(2));
                assertThat(controller.info().status()).isEqualTo(MigrationStatus.COMPLETED);
            }
            IncomingMigration result = destination.completion().block(TIMEOUT);
            try (RamBlocks received = result.blocks()) {
                assertThat(received.get(0).memory().mismatch(source.get(0).memory())).isEqualTo(-1);
                assertThat(result.machine()).isEqualTo("none");
                assertThat(result.deviceState()).isEqualTo(parked);
                assertThat(result.deviceState().tail()).isEqualTo(parked.tail());
                assertThat(result.state()).isEmpty();
                assertThat(result.verified()).isFalse();
            }
        }
    }

    private static void fillRandom(MemorySegment memory, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        for (long offset = 0; offset < memory.byteSize(); offset += 8) {
            memory.set(ValueLayout.JAVA_LONG_UNALIGNED, offset, random.nextLong());
        }
    }
}
