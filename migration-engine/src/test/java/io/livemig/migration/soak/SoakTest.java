package io.livemig.migration.soak;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.migration.api.DestinationController;
import io.livemig.migration.api.MigrationRuntime;
import io.livemig.migration.api.SourceController;
import io.livemig.migration.destination.IncomingMigration;
import io.livemig.migration.params.MigrationCapability;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.status.MigrationStatus;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Soak: many migrations through one long-lived process must leave it holding what it held before. One
 * {@link MigrationRuntime} (the soft provider over real TCP sockets on loopback, its event loop) lives for the whole
 * class, as a long-lived destination process would; each migration gets a fresh destination and source controller on
 * it, as QEMU gets a fresh {@code -incoming} per migration. Checked: back-to-back migrations, eight at once, and a
 * destination under a thousand hostile connections. After each, file descriptors and threads return exactly to the
 * baseline and the heap to within a margin; every migration arrives verified and byte for byte.
 *
 * <p>The counts are small by default so CI stays quick; {@code scripts/soak.sh} runs the figures (100
 * back-to-back migrations) with native memory tracking and writes the table to {@code target/soak.md}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SoakTest {

    private static final long MIB = 1 << 20;
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    /** Back-to-back migrations ({@code -Dlivemig.soak.migrations}). */
    private static final int MIGRATIONS = Integer.getInteger("livemig.soak.migrations", 12);
    /** Concurrent migrations into as many destinations. */
    private static final int CONCURRENT = Integer.getInteger("livemig.soak.concurrent", 8);
    /** Hostile connections held against one waiting destination. */
    private static final int HOSTILE = Integer.getInteger("livemig.soak.hostile", 1000);
    /** RAM per migration. */
    private static final long RAM = Long.getLong("livemig.soak.ramMiB", 8) * MIB;
    /** What the heap may grow by between baseline and end, for allocator and JIT noise. */
    private static final long HEAP_MARGIN = 32 * MIB;

    private MigrationRuntime runtime;
    private final List<String> table = new ArrayList<>();

    @BeforeAll
    void start() {
        runtime = MigrationRuntime.builder().devices(RdmaDeviceFactory.named("soft")).timeout(TIMEOUT).build();
        table.add(ResourceUsage.header());
    }

    @AfterAll
    void stop() throws IOException {
        runtime.close();
        Path out = Path.of("target", "soak.md");
        Files.createDirectories(out.getParent());
        String text = String.join("\n", table) + "\n";
        Files.writeString(out, text);
        System.out.println(text);
    }

    @Test
    @Order(1)
    void backToBackMigrationsLeaveNothingBehind() throws Exception {
        try (RamBlocks source = sourceRam(1)) {
            for (int i = 0; i < 3; i++) { // warm-up: pools, JIT, the event loop's lazily created state
                migrateOnce(source);
            }
            ResourceUsage baseline = record("back-to-back: baseline after 3 warm-up migrations");
            int every = Math.max(1, MIGRATIONS / 5);
            for (int i = 1; i <= MIGRATIONS; i++) {
                migrateOnce(source);
                if (i % every == 0 && i < MIGRATIONS) {
                    record("back-to-back: after " + i);
                }
            }
            ResourceUsage end = settle(baseline);
            table.add(end.row("back-to-back: after " + MIGRATIONS));
            assertFlat(baseline, end);
        }
    }

    @Test
    @Order(2)
    void concurrentMigrationsIntoAsManyDestinationsLeaveNothingBehind() throws Exception {
        ResourceUsage baseline = record("concurrent: baseline");
        List<RamBlocks> sources = new ArrayList<>();
        List<DestinationController> destinations = new ArrayList<>();
        List<SourceController> controllers = new ArrayList<>();
        try {
            List<Mono<IncomingMigration>> arrivals = new ArrayList<>();
            List<Flux<?>> migrations = new ArrayList<>();
            for (int i = 0; i < CONCURRENT; i++) {
                RamBlocks ram = sourceRam(100 + i);
                sources.add(ram);
                DestinationController destination = destination();
                destinations.add(destination);
                InetSocketAddress address = destination.listen(loopback());
                SourceController controller = source(ram);
                controllers.add(controller);
                arrivals.add(destination.completion());
                migrations.add(controller.migrate(new MigrationUri(address.getHostString(), address.getPort())));
            }
            Flux.merge(migrations).blockLast(TIMEOUT.multipliedBy(2));
            ResourceUsage peak = ResourceUsage.now();
            table.add(peak.row("concurrent: " + CONCURRENT + " migrations done, received RAM still held"));
            for (int i = 0; i < CONCURRENT; i++) {
                assertThat(controllers.get(i).info().status()).isEqualTo(MigrationStatus.COMPLETED);
                IncomingMigration arrived = arrivals.get(i).block(TIMEOUT);
                try (RamBlocks received = arrived.blocks()) {
                    assertThat(arrived.verified()).isTrue();
                    assertThat(received.get(0).memory().mismatch(sources.get(i).get(0).memory())).isEqualTo(-1);
                }
            }
        } finally {
            controllers.forEach(SourceController::close);
            destinations.forEach(DestinationController::close);
            sources.forEach(RamBlocks::close);
        }
        ResourceUsage end = settle(baseline);
        table.add(end.row("concurrent: after closing all"));
        assertFlat(baseline, end);
    }

    /**
     * A thousand strangers connect to a waiting destination: a third stay silent, a third send half a soft-wire
     * header, a third send garbage. The destination keeps at most its listen backlog of them (the rest are closed as
     * they arrive), a real source still migrates through them, and closing them returns everything.
     */
    @Test
    @Order(3)
    void aThousandHostileConnectionsStayBoundedAndAMigrationStillArrives() throws Exception {
        ResourceUsage baseline = record("hostile: baseline");
        List<Socket> strangers = new ArrayList<>();
        try (RamBlocks source = sourceRam(7); DestinationController destination = destination()) {
            InetSocketAddress address = destination.listen(loopback());
            byte[] garbage = "GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(4).getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < HOSTILE; i++) {
                Socket stranger = new Socket();
                strangers.add(stranger);
                stranger.connect(address, 5_000);
                OutputStream out = stranger.getOutputStream();
                switch (i % 3) {
                    case 1 -> out.write(garbage, 0, 20); // less than a 48-byte header: waits for the rest
                    case 2 -> out.write(garbage);
                    default -> { } // silent
                }
                out.flush();
            }
            ResourceUsage held = ResourceUsage.now();
            table.add(held.row("hostile: " + HOSTILE + " connections open"));
            try (SourceController controller = source(source)) {
                controller.migrate(new MigrationUri(address.getHostString(), address.getPort()))
                        .blockLast(TIMEOUT.multipliedBy(2));
                assertThat(controller.info().status()).isEqualTo(MigrationStatus.COMPLETED);
            }
            IncomingMigration arrived = destination.completion().block(TIMEOUT);
            try (RamBlocks received = arrived.blocks()) {
                assertThat(arrived.verified()).isTrue();
                assertThat(received.get(0).memory().mismatch(source.get(0).memory())).isEqualTo(-1);
            }
            ResourceUsage during = ResourceUsage.now();
            table.add(during.row("hostile: after a migration through them"));
            // What a thousand connections may cost the destination: the listen backlog's worth of pending
            // handshakes (two soft-wire threads each) and the strangers' own sockets on this side of the test.
            long pendingBound = 128;
            assertThat(held.threads() - baseline.threads())
                    .as("threads held by %d hostile connections", HOSTILE).isLessThanOrEqualTo(2 * pendingBound + 8);
            assertThat(held.heapBytes() - baseline.heapBytes())
                    .as("heap held by %d hostile connections", HOSTILE).isLessThan(64 * MIB);
        } finally {
            for (Socket stranger : strangers) {
                stranger.close();
            }
        }
        ResourceUsage end = settle(baseline);
        table.add(end.row("hostile: after the strangers left"));
        assertFlat(baseline, end);
    }

    private void migrateOnce(RamBlocks source) throws Exception {
        // The application keeps running between migrations: a few pages change each time.
        SplittableRandom random = new SplittableRandom(source.get(0).memory().get(ValueLayout.JAVA_LONG, 0));
        MemorySegment memory = source.get(0).memory();
        for (int i = 0; i < 16; i++) {
            memory.set(ValueLayout.JAVA_LONG, random.nextLong(memory.byteSize() / 8) * 8, random.nextLong());
        }
        try (DestinationController destination = destination(); SourceController controller = source(source)) {
            InetSocketAddress address = destination.listen(loopback());
            controller.migrate(new MigrationUri(address.getHostString(), address.getPort()))
                    .blockLast(TIMEOUT.multipliedBy(2));
            assertThat(controller.info().status()).isEqualTo(MigrationStatus.COMPLETED);
            IncomingMigration arrived = destination.completion().block(TIMEOUT);
            try (RamBlocks received = arrived.blocks()) {
                assertThat(arrived.verified()).isTrue();
                assertThat(received.get(0).memory().mismatch(memory)).isEqualTo(-1);
            }
        }
    }

    private DestinationController destination() {
        return DestinationController.builder().runtime(runtime).memoryLimit(4 * RAM).build();
    }

    private SourceController source(RamBlocks ram) {
        SourceController controller = SourceController.builder(ram).runtime(runtime).build();
        controller.setCapability(MigrationCapability.X_VERIFY, true);
        controller.setParameters(MigrationParameters.DEFAULTS.withMaxBandwidth(0));
        return controller;
    }

    private static MigrationUri loopback() {
        return new MigrationUri(InetAddress.getLoopbackAddress().getHostAddress(), 0);
    }

    /** Random RAM with a zero megabyte in the middle (COMPRESS). */
    private static RamBlocks sourceRam(long seed) {
        RamBlocks blocks = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", RAM)));
        MemorySegment memory = blocks.get(0).memory();
        SplittableRandom random = new SplittableRandom(seed);
        for (long offset = 0; offset < memory.byteSize(); offset += 8) {
            memory.set(ValueLayout.JAVA_LONG, offset, random.nextLong());
        }
        memory.asSlice(RAM / 2, MIB).fill((byte) 0);
        return blocks;
    }

    private ResourceUsage record(String label) {
        ResourceUsage usage = ResourceUsage.now();
        table.add(usage.row(label));
        return usage;
    }

    /**
     * Waits (bounded) until descriptors and threads are back to the baseline: the soft wire's threads and sockets
     * end shortly after the close that released them, not within it.
     */
    private static ResourceUsage settle(ResourceUsage baseline) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        ResourceUsage now = ResourceUsage.now();
        while ((now.fds() > baseline.fds() || now.threads() > baseline.threads()) && System.nanoTime() < deadline) {
            Thread.sleep(100);
            now = ResourceUsage.now();
        }
        return now;
    }

    private static void assertFlat(ResourceUsage baseline, ResourceUsage end) {
        assertThat(end.fds()).as("open file descriptors").isLessThanOrEqualTo(baseline.fds());
        assertThat(end.threads()).as("live threads: %s", Thread.getAllStackTraces().keySet().stream()
                .map(Thread::getName).sorted().toList()).isLessThanOrEqualTo(baseline.threads());
        assertThat(end.heapBytes()).as("heap after GC").isLessThan(baseline.heapBytes() + HEAP_MARGIN);
        assertThat(end.directBytes()).as("direct memory").isLessThanOrEqualTo(baseline.directBytes() + 16 * MIB);
    }
}
