package io.livemig.examples;

import io.livemig.migration.api.DestinationController;
import io.livemig.migration.api.SourceController;
import io.livemig.migration.destination.IncomingMigration;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.ram.RamBlock;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.status.MigrationInfo;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * A Reactor application that keeps its data in an off-heap store and migrates it live: the store becomes a RAM
 * block, a {@link SourceController} sends it, a {@link DestinationController} receives it, and the migration is a
 * {@code Flux} of QEMU's {@code query-migrate} snapshots that ends when the destination holds every byte.
 *
 * <p>Both ends run in this JVM on the loopback interface, over the soft provider (RDMA verbs emulated over TCP). In a
 * deployment the destination is another process that calls {@code listen} on its own address, and both ends use
 * {@code RdmaDeviceFactory.named("verbs")} on an RDMA NIC. An application that keeps writing its store during the
 * migration also gives the source a {@code Workload} (pause before the final round) and marks the pages it writes
 * ({@code RamBlock.write}, or {@code dirtyBitmap().markRange}); this one stands still, so it needs neither.
 */
public final class ReactorMigrationSample {

    /** How long the sample waits for the migration before it gives up. */
    static final Duration TIMEOUT = Duration.ofSeconds(60);

    private ReactorMigrationSample() {
    }

    /**
     * What a migration ended with.
     *
     * @param last the source's {@code query-migrate} once it ended ({@code completed})
     * @param received the destination's copy of the store, owned by the caller
     */
    public record Migrated(MigrationInfo last, RamBlocks received) implements AutoCloseable {

        /** Frees the destination's copy. */
        @Override
        public void close() {
            received.close();
        }
    }

    /**
     * Migrates the store to a destination in this JVM and returns what arrived.
     *
     * @param store page-aligned native memory the application owns (not freed here), a multiple of 4 KiB
     * @param devices the RDMA provider of both ends
     * @param progress told of every snapshot: each status change and the end of each round
     * @return the final snapshot and the destination's copy
     * @throws IOException if the destination cannot listen
     * @throws io.livemig.migration.api.MigrationFailedException if the migration fails
     */
    public static Migrated migrate(MemorySegment store, RdmaDeviceFactory devices, Consumer<MigrationInfo> progress)
            throws IOException {
        try (RamBlocks ram = RamBlocks.of(List.of(RamBlock.wrap("store", store, 0)));
                DestinationController destination = DestinationController.builder().devices(devices).build();
                SourceController source = SourceController.builder(ram).devices(devices).build()) {
            InetSocketAddress listening = destination.listen(MigrationUri.parse("rdma:127.0.0.1:0"));
            IncomingMigration arrived = source.migrate(new MigrationUri("127.0.0.1", listening.getPort()))
                    .doOnNext(progress)                      // setup, active, ..., completed
                    .then(destination.completion())          // the destination's blocks, once all arrived
                    .block(TIMEOUT);
            return new Migrated(source.info(), arrived.blocks());
        }
    }

    /**
     * Fills 64 MiB of off-heap memory, migrates it and says whether the copy is identical.
     *
     * @param args none
     * @throws IOException if the destination cannot listen
     */
    public static void main(String[] args) throws IOException {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment store = arena.allocate(64L << 20, RamBlock.PAGE_SIZE);
            fillRandom(store, 1);
            try (Migrated migrated = migrate(store, RdmaDeviceFactory.named("soft"),
                    info -> System.out.println(info.toQmpJson()))) {
                boolean identical = store.mismatch(migrated.received().get(0).memory()) == -1;
                System.out.println(migrated.last().status() + ", copy identical: " + identical);
            }
        }
    }

    /**
     * Writes pseudo-random bytes over the whole segment: the application's data.
     *
     * @param memory where
     * @param seed the sequence
     */
    static void fillRandom(MemorySegment memory, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        for (long at = 0; at + Long.BYTES <= memory.byteSize(); at += Long.BYTES) {
            memory.set(ValueLayout.JAVA_LONG_UNALIGNED, at, random.nextLong());
        }
    }
}
