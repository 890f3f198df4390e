package io.livemig.migration.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.migration.control.DestinationControl;
import io.livemig.migration.control.LocalControlPlane;
import io.livemig.migration.testing.PlacingDataPath;
import io.livemig.migration.control.SourceControl;
import io.livemig.migration.destination.ChunkRegistrations;
import io.livemig.migration.destination.DestinationBlockTable;
import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.ControlMessage;
import io.livemig.migration.protocol.ControlType;
import io.livemig.migration.protocol.RegisterResult;
import io.livemig.migration.ram.DirtyPages;
import io.livemig.migration.ram.RamBlock;
import io.livemig.migration.ram.RamBlocks;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A round of pages end to end at the protocol level: the source's {@link RoundSender} against a
 * destination registration loop over an asynchronous control channel (Netty's local transport), with a
 * data path that places each RDMA WRITE the way RC does: only into a registered destination region
 * named by its rkey, within bounds, completing asynchronously.
 */
class RoundSenderTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final long MIB = 1 << 20;

    private LocalControlPlane plane;
    private final Map<ControlType, AtomicInteger> sentByType = new ConcurrentHashMap<>();

    @BeforeEach
    void start() throws InterruptedException {
        // Counts what the source sent, by type, on its way to the destination's control.
        plane = new LocalControlPlane("round-sender-test", () -> List.of(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                sentByType.computeIfAbsent(ControlType.fromValue(((ByteBuf) msg).getInt(4)),
                        t -> new AtomicInteger()).incrementAndGet();
                ctx.fireChannelRead(msg);
            }
        }));
    }

    @AfterEach
    void stop() throws InterruptedException {
        plane.close();
    }

    @Test
    void dynamicRegistrationMovesEveryByteAndCompressesUntouchedZeroChunks() throws Exception {
        runRound(false);
    }

    @Test
    void pinAllWritesEverythingWithBlockKeysAndNoRegistrationTraffic() throws Exception {
        runRound(true);
    }

    private void runRound(boolean pinAll) throws Exception {
        List<BlockListEntry> layout = List.of(new BlockListEntry("pc.ram", 5 * MIB + 12 * 4096),
                new BlockListEntry("vga", MIB));
        try (RamBlocks source = RamBlocks.allocate(layout);
                RamBlocks destination = RamBlocks.of(List.of(RamBlock.allocate("vga", MIB, 0x20000000L),
                        RamBlock.allocate("pc.ram", 5 * MIB + 12 * 4096, 0x100000000L)))) {
            // pc.ram: random except chunk 2 which stays zero; vga: all zero.
            SplittableRandom random = new SplittableRandom(7);
            MemorySegment ram = source.get(0).memory();
            for (long offset = 0; offset < ram.byteSize(); offset += 8) {
                if (offset < 2 * MIB || offset >= 3 * MIB) {
                    ram.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, offset, random.nextLong());
                }
            }
            // Stale bytes in the destination's zero chunk must be overwritten by COMPRESS (or the write).
            destination.get(1).memory().asSlice(2 * MIB, MIB).fill((byte) 0x55);

            DestinationBlockTable destinationTable = DestinationBlockTable.match(destination, source.blockList());
            PlacingDataPath fabric = new PlacingDataPath();
            ChunkRegistrations registrations = new ChunkRegistrations(destinationTable, fabric::registerRemote);
            if (pinAll) {
                registrations.registerAllBlocks();
            }
            SourceBlockTable table = SourceBlockTable.check(source,
                    destinationTable.remoteBlocks(registrations::blockRkey));

            SourceControl control = new SourceControl();
            Channel channel = plane.connect(control);
            DestinationControl destinationControl = plane.accepted();
            CompletableFuture<Void> loop = CompletableFuture.runAsync(
                    () -> registrationLoop(destinationControl, destinationTable, registrations));

            try (RoundSender sender = new RoundSender(source, table, control, fabric, pinAll, 8)) {
                if (pinAll) {
                    sender.registerAllBlocks();
                }
                RoundStats stats = sender.send(List.of(DirtyPages.all(source.get(0).pages()),
                        DirtyPages.all(source.get(1).pages()))).block(TIMEOUT);
                control.send(ControlMessage.registerFinished()).block(TIMEOUT);
                loop.get(30, TimeUnit.SECONDS);

                assertThat(destination.get(1).memory().mismatch(source.get(0).memory())).isEqualTo(-1);
                assertThat(destination.get(0).memory().mismatch(source.get(1).memory())).isEqualTo(-1);
                assertThat(fabric.maxInFlight.get()).isLessThanOrEqualTo(8);
                assertThat(fabric.chunkOverlap.get()).isZero();
                long totalPages = (source.totalBytes()) / 4096;
                if (pinAll) {
                    assertThat(stats.duplicatePages()).isZero();
                    assertThat(stats.normalPages()).isEqualTo(totalPages);
                    assertThat(stats.registrations()).isZero();
                    assertThat(sentByType).doesNotContainKeys(ControlType.REGISTER_REQUEST, ControlType.COMPRESS);
                } else {
                    // Chunk 2 of pc.ram and the whole of vga are zero and unregistered: COMPRESS.
                    assertThat(stats.duplicatePages()).isEqualTo((MIB + MIB) / 4096);
                    assertThat(stats.normalPages()).isEqualTo(totalPages - stats.duplicatePages());
                    // pc.ram has 6 chunks with data (0, 1, 3, 4 and the partial 5): one REGISTER each.
                    assertThat(stats.registrations()).isEqualTo(5);
                    assertThat(sentByType.get(ControlType.REGISTER_REQUEST)).hasValue(5);
                    assertThat(sentByType.get(ControlType.COMPRESS)).hasValue(2);

                    // A second round reuses the cached keys: no REGISTER traffic, only writes.
                    source.get(0).fill(4 * MIB + 4096, 3 * 4096, (byte) 9);
                    // Three separate runs in chunk 0: three writes to one chunk, never two in flight.
                    for (long page : new long[] {0, 2, 4}) {
                        source.get(0).fill(page * 4096, 4096, (byte) 3);
                    }
                    CompletableFuture<Void> loop2 = CompletableFuture.runAsync(
                            () -> registrationLoop(destinationControl, destinationTable, registrations));
                    RoundStats second = sender.send(List.of(source.get(0).dirtyBitmap().syncAndClear(),
                            source.get(1).dirtyBitmap().syncAndClear())).block(TIMEOUT);
                    control.send(ControlMessage.registerFinished()).block(TIMEOUT);
                    loop2.get(30, TimeUnit.SECONDS);
                    assertThat(second).isEqualTo(new RoundStats(6, 6 * 4096, 0, 4, 0));
                    assertThat(fabric.chunkOverlap.get()).isZero();
                    assertThat(destination.get(1).memory().mismatch(source.get(0).memory())).isEqualTo(-1);
                }
            } finally {
                registrations.close();
                channel.close().sync();
            }
        }
    }

    /** The destination's side of a round, reduced to what the source sends in it. */
    private static void registrationLoop(DestinationControl control, DestinationBlockTable table,
            ChunkRegistrations registrations) {
        while (true) {
            ControlMessage message = control.receive(ControlType.NONE).block(TIMEOUT);
            try {
                switch (message.type()) {
                    case REGISTER_REQUEST -> {
                        RegisterResult result = registrations.register(message.registerRequests().getFirst());
                        control.respond(ControlMessage.registerResult(List.of(result))).block(TIMEOUT);
                    }
                    case COMPRESS -> table.resolveCompress(message.compress()).fill((byte) 0);
                    case REGISTER_FINISHED -> {
                        return;
                    }
                    default -> throw new AssertionError("unexpected " + message);
                }
            } catch (java.io.IOException e) {
                throw new AssertionError(e);
            } finally {
                message.release();
            }
        }
    }
}
