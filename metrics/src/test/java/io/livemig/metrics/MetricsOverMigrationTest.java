package io.livemig.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.migration.destination.IncomingMigration;
import io.livemig.migration.api.DestinationController;
import io.livemig.migration.api.SourceController;
import io.livemig.migration.api.Workload;
import io.livemig.migration.params.MigrationCapability;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.ControlType;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.ram.RamBlock;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.status.MigrationInfo;
import io.livemig.migration.status.MigrationStatus;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import io.livemig.transport.rdma.channel.RdmaIoHandler;
import io.livemig.transport.rdma.verbs.soft.InJvmFabric;
import io.livemig.transport.rdma.verbs.soft.SoftVerbsProvider;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.search.Search;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Mono;

/**
 * The meters after, and during, a real migration over the soft provider's in-JVM fabric, with both ends in this
 * process reporting to one {@link LivemigMetrics} (as {@code livemig demo} does): every documented meter exists with
 * its documented tags, and the counts agree with what the engine itself says (query-migrate, the incoming
 * migration) and with each other (what one side sent, the other received).
 *
 * <p>Needs the engine's recorder calls (source, destination, round sender); see the lead's wiring.
 */
class MetricsOverMigrationTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final long MIB = 1 << 20;

    private final LivemigMetrics metrics = new LivemigMetrics();
    private InJvmFabric fabric;
    private EventLoopGroup group;

    @BeforeEach
    void start() {
        fabric = new InJvmFabric();
        // The loops report to the binder too: what the controllers' own loops do with recorder.transportRecorder().
        group = new MultiThreadIoEventLoopGroup(2, RdmaIoHandler.newFactory(RdmaIoHandler.DEFAULT_SPIN_POLLS,
                metrics.transportRecorder()));
    }

    @AfterEach
    void stop() throws InterruptedException {
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).await(20, TimeUnit.SECONDS);
        fabric.close();
    }

    private RdmaDeviceFactory devices() {
        return () -> new SoftVerbsProvider().open(fabric);
    }

    @ParameterizedTest(name = "pinAll={0}")
    @ValueSource(booleans = {false, true})
    void afterAMigrationEveryMeterExistsAndCountsAgreeWithTheEngine(boolean pinAll) throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        metrics.bindTo(registry);
        Migration migration = migrate(pinAll, 0, false, null);
        MigrationInfo done = migration.last();
        assertThat(done.status()).isEqualTo(MigrationStatus.COMPLETED);

        // Every documented meter, with exactly its documented tag keys and only documented values.
        for (LivemigMeters documented : LivemigMeters.values()) {
            assertThat(registry.find(documented.getName()).meters()).as(documented.getName()).isNotEmpty()
                    .allSatisfy(meter -> {
                        assertThat(meter.getId().getTags()).extracting(Tag::getKey)
                                .containsExactlyInAnyOrderElementsOf(documented.tags().stream()
                                        .map(MeterTag::asString).toList());
                        for (MeterTag tag : documented.tags()) {
                            assertThat(tag.tagValues()).contains(meter.getId().getTag(tag.asString()));
                        }
                    });
        }

        // Bytes written = ram.normal-bytes; every WRITE posted completed, on the CQ too.
        double writes = count(registry, "livemig.migration.rdma.writes");
        assertThat(count(registry, "livemig.migration.rdma.write.data")).isEqualTo((double) done.ram().normalBytes());
        assertThat(registry.get("livemig.migration.rdma.write.size").summary().count()).isEqualTo((long) writes);
        assertThat(registry.get("livemig.migration.rdma.write.latency").timer().count()).isEqualTo((long) writes);
        assertThat(count(registry, "livemig.rdma.cq.completions", "opcode", "rdma_write", "status", "success"))
                .isEqualTo(writes);

        // Chunks registered = REGISTER REQUESTs sent (and received); none in pin-all.
        double requestsSent = count(registry, "livemig.migration.control.messages", "side", "source", "type",
                "register_request", "direction", "sent");
        double requestsReceived = count(registry, "livemig.migration.control.messages", "side", "destination", "type",
                "register_request", "direction", "received");
        assertThat(requestsReceived).isEqualTo(requestsSent);
        assertThat(timerCount(registry, "livemig.migration.registration", "side", "source"))
                .isEqualTo((long) requestsSent);
        assertThat(timerCount(registry, "livemig.migration.registration", "side", "destination"))
                .isEqualTo((long) requestsSent);
        assertThat(count(registry, "livemig.migration.registered.chunks", "side", "destination"))
                .isEqualTo(count(registry, "livemig.migration.registered.chunks", "side", "source"));
        if (pinAll) {
            assertThat(requestsSent).isZero();
            assertThat(timerCount(registry, "livemig.migration.pin.all.registration", "side", "source"))
                    .isEqualTo(migration.blocks());
            assertThat(timerCount(registry, "livemig.migration.pin.all.registration", "side", "destination"))
                    .isEqualTo(migration.blocks());
            assertThat(count(registry, "livemig.migration.compress.data", "side", "source")).isZero();
        } else {
            assertThat(requestsSent).isPositive();
            assertThat(count(registry, "livemig.migration.registered.chunks", "side", "source", "mode", "dynamic"))
                    .isGreaterThanOrEqualTo(requestsSent);
            // Later rounds rewrite chunks of pc.ram registered in the bulk round.
            assertThat(count(registry, "livemig.migration.rkey.cache.hits")).isPositive();
            // Zero pages sent as COMPRESS = ram.duplicate = zero pages the destination filled.
            assertThat(count(registry, "livemig.migration.compress.data", "side", "source"))
                    .isEqualTo(done.ram().duplicate() * 4096.0);
            assertThat(count(registry, "livemig.migration.compress.data", "side", "destination"))
                    .isEqualTo(migration.incoming().zeroPages() * 4096.0);
        }

        // What one side sent, the other received, type by type; the QEMU FILE stream likewise.
        for (ControlType type : ControlType.values()) {
            String tag = MeterTag.value(type);
            assertThat(count(registry, "livemig.migration.control.messages", "side", "destination", "type", tag,
                    "direction", "received")).as("%s source to destination", type)
                    .isEqualTo(count(registry, "livemig.migration.control.messages", "side", "source", "type", tag,
                            "direction", "sent"));
            assertThat(count(registry, "livemig.migration.control.messages", "side", "source", "type", tag,
                    "direction", "received")).as("%s destination to source", type)
                    .isEqualTo(count(registry, "livemig.migration.control.messages", "side", "destination", "type", tag,
                            "direction", "sent"));
        }
        assertThat(count(registry, "livemig.migration.qemu.file.data", "side", "source")).isPositive()
                .isEqualTo(count(registry, "livemig.migration.qemu.file.data", "side", "destination"));

        // One completed migration per side, timed; the downtime is query-migrate's.
        for (String side : List.of("source", "destination")) {
            assertThat(count(registry, "livemig.migration.outcomes", "side", side, "outcome", "completed"))
                    .isEqualTo(1.0);
            assertThat(timerCount(registry, "livemig.migration.duration", "side", side, "outcome", "completed"))
                    .isEqualTo(1);
            assertThat(registry.get("livemig.migration.active").tag("side", side).longTaskTimer().activeTasks())
                    .isZero();
        }
        assertThat(registry.get("livemig.migration.downtime").timer().totalTime(TimeUnit.MILLISECONDS))
                .isEqualTo((double) done.downtime().orElseThrow());
        assertThat(gauge(registry, "livemig.migration.ram.size")).isEqualTo((double) done.ram().total());
        assertThat(gauge(registry, "livemig.migration.ram.remaining")).isEqualTo((double) done.ram().remaining());
        assertThat(gauge(registry, "livemig.migration.dirty.syncs")).isEqualTo((double) done.ram().dirtySyncCount());

        // The connections are closed: every work request completed or was accounted for.
        awaitIdleTransport(registry);
        assertThat(gauge(registry, "livemig.rdma.send.queue.outstanding")).isZero();
        assertThat(gauge(registry, "livemig.rdma.receive.credits")).isZero();
        assertThat(count(registry, "livemig.rdma.eventloop.runs", "type", "poll")).isPositive();
    }

    @Test
    void aScrapeDuringAMigrationShowsThePrometheusNamesAndTheyMove() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        metrics.bindTo(registry);
        List<Exposition> scrapes = new ArrayList<>();
        Exposition after;
        AtomicBoolean finished = new AtomicBoolean();
        try (PrometheusEndpoint endpoint = PrometheusEndpoint.start(registry,
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            HttpRequest scrape = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoint.port()
                    + PrometheusEndpoint.PATH)).header("Accept", "application/openmetrics-text").build();
            Thread scraper = Thread.ofPlatform().name("scraper").start(() -> {
                while (!finished.get()) {
                    try {
                        HttpResponse<String> response = client.send(scrape, HttpResponse.BodyHandlers.ofString());
                        scrapes.add(Exposition.parse(response.body()));
                        Thread.sleep(50);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }
            });
            try {
                // 8 MiB/s over 13 MiB: a few seconds of rounds to watch, with a workload slow enough to converge.
                migrate(false, 8 * MIB, true, finished);
            } finally {
                finished.set(true);
                scraper.join();
            }
            after = Exposition.parse(client.send(scrape, HttpResponse.BodyHandlers.ofString()).body());
            for (LivemigMeters meter : LivemigMeters.values()) {
                assertThat(after.names()).containsAll(meter.prometheusNames());
            }
        }
        List<Exposition> during = scrapes.stream()
                .filter(s -> s.samples().getOrDefault(
                        Exposition.series("livemig_migration_active_seconds_count", "side", "source"), 0.0) == 1.0)
                .toList();
        assertThat(during).as("scrapes while the migration ran").hasSizeGreaterThanOrEqualTo(3);
        List<Double> written = during.stream().map(s -> s.value("livemig_migration_rdma_write_data_bytes_total"))
                .distinct().collect(Collectors.toList());
        assertThat(written).as("bytes written, scrape by scrape").hasSizeGreaterThanOrEqualTo(3).isSorted();
        // The progress gauges follow the rounds: the whole RAM is remaining while the bulk round runs, none at the end.
        assertThat(during.getFirst().value("livemig_migration_ram_remaining_bytes")).isPositive();
        assertThat(after.value("livemig_migration_ram_remaining_bytes")).isLessThan(
                during.getFirst().value("livemig_migration_ram_remaining_bytes"));
        assertThat(after.value("livemig_migration_active_seconds_count", "side", "source")).isZero();
    }

    /** What a migration left: its last snapshot, the destination's result, the block count. */
    private record Migration(MigrationInfo last, IncomingMigration incoming, int blocks) {
    }

    /**
     * Migrates 13 MiB (random, zero, odd-sized blocks) while a workload dirties pages of the first block until the
     * pause: as fast as it can all over the block, or, gently, a page of its first 256 KiB a millisecond.
     */
    private Migration migrate(boolean pinAll, long maxBandwidth, boolean gentle, AtomicBoolean finished)
            throws Exception {
        try (RamBlocks source = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 8 * MIB),
                new BlockListEntry("zeros", 2 * MIB), new BlockListEntry("odd", 3 * MIB + 5 * 4096)));
                DestinationController destination = DestinationController.builder().devices(devices())
                        .eventLoopGroup(group).recorder(metrics).memoryLimit(64 * MIB).timeout(TIMEOUT).build()) {
            fillRandom(source.get(0).memory(), 11);
            fillRandom(source.get(2).memory(), 12);
            InetSocketAddress address = destination.listen(
                    new MigrationUri(InetAddress.getLoopbackAddress().getHostAddress(), 0));
            AtomicBoolean paused = new AtomicBoolean();
            Thread writer = Thread.ofPlatform().name("workload").start(() -> {
                SplittableRandom random = new SplittableRandom(13);
                RamBlock ram = source.get(0);
                long spread = gentle ? 256 * 1024 : ram.usedLength();
                while (!paused.get()) {
                    ram.putLong(random.nextLong(spread / 8) * 8, random.nextLong());
                    if (gentle) {
                        LockSupport.parkNanos(1_000_000);
                    }
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

                @Override
                public byte[] saveState() {
                    return "non-live state".getBytes();
                }
            };
            MigrationInfo last;
            try (SourceController controller = SourceController.builder(source).devices(devices())
                    .eventLoopGroup(group).workload(workload).recorder(metrics).timeout(TIMEOUT).build()) {
                controller.setCapability(MigrationCapability.RDMA_PIN_ALL, pinAll);
                controller.setParameters(MigrationParameters.DEFAULTS.withMaxBandwidth(maxBandwidth));
                last = controller.migrate(new MigrationUri(address.getHostString(), address.getPort()))
                        .blockLast(TIMEOUT.multipliedBy(2));
            } finally {
                paused.set(true);
                writer.join();
            }
            if (finished != null) {
                finished.set(true);
            }
            IncomingMigration incoming = destination.completion().block(TIMEOUT);
            incoming.blocks().close();
            return new Migration(last, incoming, source.size());
        }
    }

    /** The connections' last flush completions reach the loops shortly after the controllers return. */
    private static void awaitIdleTransport(MeterRegistry registry) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while ((gauge(registry, "livemig.rdma.send.queue.outstanding") != 0 || gauge(registry,
                "livemig.rdma.receive.credits") != 0)
                && System.nanoTime() - deadline < 0) {
            Thread.sleep(10);
        }
    }

    private static double count(MeterRegistry registry, String name, String... tags) {
        Search search = registry.find(name).tags(tags);
        return search.functionCounters().stream().mapToDouble(c -> c.count()).sum()
                + search.counters().stream().mapToDouble(c -> c.count()).sum();
    }

    private static long timerCount(MeterRegistry registry, String name, String... tags) {
        return registry.find(name).tags(tags).timers().stream().mapToLong(t -> t.count()).sum();
    }

    private static double gauge(MeterRegistry registry, String name) {
        return registry.get(name).gauge().value();
    }

    private static void fillRandom(MemorySegment memory, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        for (long offset = 0; offset < memory.byteSize(); offset += 8) {
            memory.set(ValueLayout.JAVA_LONG_UNALIGNED, offset, random.nextLong());
        }
    }
}
