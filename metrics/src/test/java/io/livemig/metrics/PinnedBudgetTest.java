package io.livemig.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.migration.api.DestinationController;
import io.livemig.migration.api.SourceController;
import io.livemig.migration.api.Workload;
import io.livemig.migration.destination.IncomingMigration;
import io.livemig.migration.observe.MigrationRecorder;
import io.livemig.migration.params.MigrationCapability;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.ram.RamBlock;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.status.MigrationInfo;
import io.livemig.migration.status.MigrationStatus;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import io.livemig.transport.rdma.channel.RdmaIoHandler;
import io.livemig.transport.rdma.verbs.soft.InJvmFabric;
import io.livemig.transport.rdma.verbs.soft.SoftVerbsProvider;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * {@code max-pinned-bytes}: 2 GiB whose every chunk holds data migrate live through a 256 MiB budget while a workload
 * dirties pages all over them, so chunks are registered, evicted with UNREGISTER REQUEST and registered again. The
 * destination's pinned-memory gauge ({@code livemig.migration.memory.pinned{side=destination}}) is read after every
 * change and never exceeds the budget; the source's own registrations stay under it too; the memory arrives byte for
 * byte and x-verify passes.
 */
class PinnedBudgetTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(120);
    private static final long MIB = 1 << 20;
    private static final long RAM = Long.getLong("livemig.pinned.ramMiB", 2048) * MIB;
    private static final long BUDGET = Long.getLong("livemig.pinned.budgetMiB", 256) * MIB;

    private final LivemigMetrics metrics = new LivemigMetrics();
    private InJvmFabric fabric;
    private EventLoopGroup group;

    @BeforeEach
    void start() {
        fabric = new InJvmFabric();
        group = new MultiThreadIoEventLoopGroup(2, RdmaIoHandler.newFactory());
    }

    @AfterEach
    void stop() throws InterruptedException {
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).await(20, TimeUnit.SECONDS);
        fabric.close();
    }

    @Test
    void twoGibibytesMigrateThroughA256MibBudgetAndTheDestinationGaugeNeverExceedsIt() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        metrics.bindTo(registry);
        Gauge destinationPinned = registry.get("livemig.migration.memory.pinned").tag("side", "destination").gauge();
        Gauge sourcePinned = registry.get("livemig.migration.memory.pinned").tag("side", "source").gauge();
        AtomicLong destinationPeak = new AtomicLong();
        AtomicLong sourcePeak = new AtomicLong();
        MigrationRecorder watched = watching(metrics, (side, delta) -> {
            if (side == MigrationRecorder.Side.DESTINATION) {
                destinationPeak.accumulateAndGet((long) destinationPinned.value(), Math::max);
            } else {
                sourcePeak.accumulateAndGet((long) sourcePinned.value(), Math::max);
            }
        });
        RdmaDeviceFactory devices = () -> new SoftVerbsProvider().open(fabric);

        try (RamBlocks source = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", RAM)));
                DestinationController destination = DestinationController.builder().devices(devices)
                        .eventLoopGroup(group).recorder(watched).memoryLimit(RAM + MIB).timeout(TIMEOUT).build()) {
            // Data in every chunk, so none goes as COMPRESS and all 2048 need a registration.
            MemorySegment memory = source.get(0).memory();
            SplittableRandom random = new SplittableRandom(5);
            for (long chunk = 0; chunk < RAM / MIB; chunk++) {
                MemorySegment page = memory.asSlice(chunk * MIB + random.nextLong(256) * 4096, 4096);
                for (long offset = 0; offset < 4096; offset += 8) {
                    page.set(ValueLayout.JAVA_LONG, offset, random.nextLong());
                }
            }
            InetSocketAddress address = destination.listen(
                    new MigrationUri(InetAddress.getLoopbackAddress().getHostAddress(), 0));
            AtomicBoolean paused = new AtomicBoolean();
            Thread writer = Thread.ofPlatform().name("workload").start(() -> {
                SplittableRandom dirt = new SplittableRandom(6);
                RamBlock ram = source.get(0);
                while (!paused.get()) {
                    // A page anywhere in the block every millisecond: chunks evicted long ago come back dirty and
                    // need registering again. Each such page is a write and a registration of its own, so the rate
                    // stays far below what a loaded two-core machine sends page by page (about 8,000 a second).
                    ram.putLong(dirt.nextLong(RAM / 8) * 8, dirt.nextLong());
                    LockSupport.parkNanos(1_000_000);
                }
            });
            Workload workload = new Workload() {
                @Override
                public Mono<Void> pause() {
                    return Mono.fromRunnable(() -> {
                        paused.set(true);
                        try {
                            writer.join();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    });
                }
            };
            MigrationInfo last;
            try (SourceController controller = SourceController.builder(source).devices(devices)
                    .eventLoopGroup(group).workload(workload).recorder(watched).timeout(TIMEOUT).build()) {
                controller.setCapability(MigrationCapability.X_VERIFY, true);
                controller.setParameters(MigrationParameters.DEFAULTS.withMaxBandwidth(0)
                        .withMaxPinnedBytes(BUDGET));
                last = controller.migrate(new MigrationUri(address.getHostString(), address.getPort()))
                        .blockLast(TIMEOUT.multipliedBy(2));
            } finally {
                paused.set(true);
                writer.join();
            }
            assertThat(last.status()).isEqualTo(MigrationStatus.COMPLETED);
            assertThat(last.ram().dirtySyncCount()).isGreaterThanOrEqualTo(2);
            IncomingMigration incoming = destination.completion().block(TIMEOUT);
            try (RamBlocks received = incoming.blocks()) {
                assertThat(incoming.verified()).isTrue();
                assertThat(received.get(0).memory().mismatch(memory)).isEqualTo(-1);
            }
        }
        assertThat(destinationPeak.get()).as("destination pinned-bytes gauge, highest value")
                .isLessThanOrEqualTo(BUDGET).isGreaterThanOrEqualTo(BUDGET / 2);
        assertThat(sourcePeak.get()).as("source pinned-bytes gauge, highest value").isLessThanOrEqualTo(BUDGET);
        // Chunks were evicted: UNREGISTER REQUESTs reached the destination.
        assertThat(registry.get("livemig.migration.control.messages").tags("side", "destination", "type",
                "unregister_request", "direction", "received").functionCounter().count()).isPositive();
        assertThat(destinationPinned.value()).as("pinned at the destination after the migration").isZero();
    }

    /** Told of each pinned-bytes change once the binder counted it. */
    @FunctionalInterface
    private interface PinnedListener {
        void changed(MigrationRecorder.Side side, long delta);
    }

    /** The binder, with each pinned-bytes change reported after it took effect. */
    private static MigrationRecorder watching(LivemigMetrics metrics, PinnedListener listener) {
        return (MigrationRecorder) Proxy.newProxyInstance(MigrationRecorder.class.getClassLoader(),
                new Class<?>[] {MigrationRecorder.class}, (proxy, method, args) -> {
                    Object result;
                    try {
                        result = method.invoke(metrics, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                    if (method.getName().equals("pinnedBytes")) {
                        listener.changed((MigrationRecorder.Side) args[0], (Long) args[1]);
                    }
                    return result;
                });
    }
}
