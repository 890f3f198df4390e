package io.livemig.migration.monitor;

import io.livemig.migration.destination.IncomingMigration;
import io.livemig.migration.api.DestinationController;
import io.livemig.migration.api.SourceController;
import io.livemig.migration.auth.AuthKey;
import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.status.MigrationInfo;
import io.livemig.migration.status.MigrationStatus;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import io.livemig.transport.rdma.channel.RdmaIoHandler;
import io.livemig.transport.rdma.verbs.soft.InJvmFabric;
import io.livemig.transport.rdma.verbs.soft.SoftVerbsProvider;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * A source and a destination controller in this JVM over the soft provider's in-JVM fabric, with 8 MiB of
 * random RAM, wrapped as monitor targets. Closes everything, including the blocks a completed incoming
 * migration handed over.
 */
final class MigrationPair implements AutoCloseable {

    static final Duration TIMEOUT = Duration.ofSeconds(30);
    static final long RAM = 8L << 20;
    /** The pages of the zero half of the RAM, which travel as COMPRESS. */
    static final long ZERO_PAGES = RAM / 2 / 4096;

    final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, RdmaIoHandler.newFactory());
    final InJvmFabric fabric = new InJvmFabric();
    final RdmaDeviceFactory devices = () -> new SoftVerbsProvider().open(fabric);
    final RamBlocks blocks = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", RAM)));
    final SourceController source;
    final DestinationController destination;
    final AtomicInteger sourceQuits = new AtomicInteger();
    final AtomicInteger destinationQuits = new AtomicInteger();
    final MigrationTarget sourceTarget;
    final MigrationTarget destinationTarget;

    MigrationPair() {
        this(null, null);
    }

    /** A pair whose ends hold these keys ({@code null}: none). */
    MigrationPair(AuthKey sourceKey, AuthKey destinationKey) {
        source = SourceController.builder(blocks).devices(devices).eventLoopGroup(group).timeout(TIMEOUT)
                .authKey(sourceKey).build();
        destination = DestinationController.builder().devices(devices).eventLoopGroup(group).memoryLimit(1L << 30)
                .timeout(TIMEOUT).authKey(destinationKey).build();
        sourceTarget = MigrationTarget.source(source, sourceQuits::incrementAndGet);
        destinationTarget = MigrationTarget.destination(destination, destinationQuits::incrementAndGet);
        SplittableRandom random = new SplittableRandom(7);
        for (long offset = 0; offset < RAM / 2; offset += 8) {
            // In the first half every other page random, the rest zero; the second half zero: its 1 MiB chunks go
            // as COMPRESS (ZERO_PAGES duplicate pages), the first half's pages as RDMA WRITEs.
            if ((offset / 4096) % 2 == 0) {
                blocks.get(0).memory().set(ValueLayout.JAVA_LONG_UNALIGNED, offset, random.nextLong());
            }
        }
    }

    /** The destination listening on a free port; returns the URI to migrate to. */
    String listen() {
        destinationTarget.incoming(new MigrationUri("127.0.0.1", 0));
        return MonitorAddress.hostPort("rdma", destinationTarget.incomingAddress().orElseThrow());
    }

    /** Waits until the received RAM equals the source's. */
    boolean receivedEqualsSent() {
        IncomingMigration incoming = destination.completion().block(TIMEOUT);
        try (RamBlocks received = incoming.blocks()) {
            return received.get(0).memory().mismatch(blocks.get(0).memory()) == -1 && incoming.verified();
        }
    }

    /** Polls a target until its status satisfies the condition, failing after the timeout. */
    static MigrationInfo awaitStatus(MigrationTarget target, MigrationStatus status) {
        return await(() -> {
            MigrationInfo info = target.info();
            return info.status() == status ? info : null;
        }, "status " + status.qmpName());
    }

    /** Polls until the supplier gives a non-null value. */
    static <T> T await(Supplier<T> probe, String what) {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            T value = probe.get();
            if (value != null) {
                return value;
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what);
            }
        }
        throw new AssertionError("timed out waiting for " + what);
    }

    @Override
    public void close() throws InterruptedException {
        source.close();
        // A completed incoming migration's blocks are the application's: release them if no test did.
        destination.completion().subscribe(m -> m.blocks().close(), e -> { });
        destination.close();
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).await(20, TimeUnit.SECONDS);
        fabric.close();
        blocks.close();
    }
}
