package io.livemig.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.livemig.migration.observe.MigrationRecorder.Mode;
import io.livemig.migration.observe.MigrationRecorder.Outcome;
import io.livemig.migration.observe.MigrationRecorder.Side;
import io.livemig.migration.protocol.ControlType;
import io.livemig.migration.status.MigrationInfo;
import io.livemig.transport.rdma.verbs.WcOpcode;
import io.livemig.transport.rdma.verbs.WcStatus;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Arrays;
import java.util.Collection;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** {@link LivemigMetrics} on a {@link SimpleMeterRegistry}: what each recorder call does to which meter. */
class LivemigMetricsTests {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final LivemigMetrics metrics = new LivemigMetrics();

    @Test
    void registersEveryDocumentedMeterWithItsDocumentedTypeUnitAndTags() {
        metrics.bindTo(registry);
        Events.everyEvent(metrics);
        for (LivemigMeters documented : LivemigMeters.values()) {
            Collection<Meter> meters = registry.find(documented.getName()).meters();
            assertThat(meters).as("meters named %s", documented.getName()).isNotEmpty();
            Set<String> keys = documented.tags().stream().map(MeterTag::asString).collect(Collectors.toSet());
            for (Meter meter : meters) {
                Meter.Id id = meter.getId();
                assertThat(id.getType()).as("type of %s", id).isEqualTo(documented.getType());
                assertThat(id.getDescription()).isEqualTo(documented.getDescription());
                if (documented.getType() != Meter.Type.TIMER && documented.getType() != Meter.Type.LONG_TASK_TIMER) {
                    assertThat(id.getBaseUnit()).as("unit of %s", id).isEqualTo(documented.getBaseUnit());
                }
                assertThat(id.getTags()).extracting(Tag::getKey).as("tag keys of %s", id)
                        .containsExactlyInAnyOrderElementsOf(keys);
                for (MeterTag tag : documented.tags()) {
                    assertThat(tag.tagValues()).as("values of %s on %s", tag, id).contains(id.getTag(tag.asString()));
                }
            }
        }
    }

    @Test
    void registersNothingUndocumented() {
        metrics.bindTo(registry);
        Events.everyEvent(metrics);
        Set<String> documented = Arrays.stream(LivemigMeters.values()).map(LivemigMeters::getName)
                .collect(Collectors.toSet());
        assertThat(registry.getMeters()).extracting(meter -> meter.getId().getName())
                .allMatch(documented::contains);
    }

    @Test
    void timesRegistrationsUnderTheModeOfTheRunningMigration() {
        metrics.bindTo(registry);
        metrics.migrationStarted(Side.SOURCE, Mode.DYNAMIC);
        metrics.registration(Side.SOURCE, 3, TimeUnit.MILLISECONDS.toNanos(2));
        metrics.registration(Side.SOURCE, 1, TimeUnit.MILLISECONDS.toNanos(4));
        metrics.migrationStarted(Side.DESTINATION, Mode.PIN_ALL);
        metrics.registration(Side.DESTINATION, 2, TimeUnit.MILLISECONDS.toNanos(1));

        Timer source = registry.get("livemig.migration.registration").tags("side", "source", "mode", "dynamic").timer();
        assertThat(source.count()).isEqualTo(2);
        assertThat(source.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(6.0);
        assertThat(source.max(TimeUnit.MILLISECONDS)).isEqualTo(4.0);
        assertThat(counter("livemig.migration.registered.chunks", "side", "source", "mode", "dynamic")).isEqualTo(4);
        assertThat(registry.get("livemig.migration.registration").tags("side", "destination", "mode", "pin-all").timer()
                .count()).isEqualTo(1);
        assertThat(counter("livemig.migration.registered.chunks", "side", "destination", "mode", "pin-all"))
                .isEqualTo(2);
        assertThat(counter("livemig.migration.registered.chunks", "side", "source", "mode", "pin-all")).isZero();
    }

    @Test
    void countsCacheHitsUnregistrationsAndPinnedMemoryPerSide() {
        metrics.bindTo(registry);
        metrics.remoteKeyCacheHit();
        metrics.remoteKeyCacheHit();
        metrics.unregistered(Side.DESTINATION, 5);
        metrics.pinnedBytes(Side.SOURCE, 3 * Events.MIB);
        metrics.pinnedBytes(Side.SOURCE, -Events.MIB);
        metrics.pinAllRegistration(Side.DESTINATION, 64 * Events.MIB, TimeUnit.MILLISECONDS.toNanos(7));

        assertThat(counter("livemig.migration.rkey.cache.hits")).isEqualTo(2);
        assertThat(counter("livemig.migration.unregistered.chunks", "side", "destination")).isEqualTo(5);
        assertThat(counter("livemig.migration.unregistered.chunks", "side", "source")).isZero();
        assertThat(gauge("livemig.migration.memory.pinned", "side", "source")).isEqualTo(2.0 * Events.MIB);
        assertThat(gauge("livemig.migration.memory.pinned", "side", "destination")).isZero();
        assertThat(registry.get("livemig.migration.pin.all.registration").tag("side", "destination").timer()
                .totalTime(TimeUnit.MILLISECONDS)).isEqualTo(7.0);
    }

    @Test
    void theWritePathFeedsCountersTheSizeSummaryAndTheLatencyTimer() {
        metrics.bindTo(registry);
        for (int i = 0; i < 3; i++) {
            metrics.rdmaWritePosted(Events.MIB);
            metrics.rdmaWriteCompleted(TimeUnit.MICROSECONDS.toNanos(10 * (i + 1)));
        }
        metrics.rdmaWritePosted(4096);

        assertThat(counter("livemig.migration.rdma.writes")).isEqualTo(4);
        assertThat(counter("livemig.migration.rdma.write.data")).isEqualTo(3 * Events.MIB + 4096);
        DistributionSummary sizes = registry.get("livemig.migration.rdma.write.size").summary();
        assertThat(sizes.count()).isEqualTo(4);
        assertThat(sizes.totalAmount()).isEqualTo(3.0 * Events.MIB + 4096);
        assertThat(sizes.max()).isEqualTo((double) Events.MIB);
        Timer latency = registry.get("livemig.migration.rdma.write.latency").timer();
        assertThat(latency.count()).isEqualTo(3);
        assertThat(latency.max(TimeUnit.MICROSECONDS)).isEqualTo(30.0);
    }

    @Test
    void countsControlMessagesAndTheirBytesByTypeAndDirection() {
        metrics.bindTo(registry);
        metrics.controlMessage(Side.SOURCE, ControlType.REGISTER_REQUEST, true, 36);
        metrics.controlMessage(Side.SOURCE, ControlType.REGISTER_REQUEST, true, 36);
        metrics.controlMessage(Side.SOURCE, ControlType.REGISTER_RESULT, false, 28);
        metrics.controlMessage(Side.DESTINATION, ControlType.QEMU_FILE, false, 1000);
        metrics.compressed(Side.SOURCE, 8192);
        metrics.qemuFileBytes(Side.DESTINATION, 984);

        assertThat(counter("livemig.migration.control.messages", "side", "source", "type", "register_request",
                "direction", "sent")).isEqualTo(2);
        assertThat(counter("livemig.migration.control.data", "side", "source", "type", "register_request", "direction",
                "sent")).isEqualTo(72);
        assertThat(counter("livemig.migration.control.messages", "side", "source", "type", "register_result",
                "direction", "received")).isEqualTo(1);
        assertThat(counter("livemig.migration.control.data", "side", "destination", "type", "qemu_file", "direction",
                "received")).isEqualTo(1000);
        // Tag sets appear with their first message only.
        assertThat(registry.find("livemig.migration.control.messages").meters()).hasSize(3);
        assertThat(counter("livemig.migration.compress.data", "side", "source")).isEqualTo(8192);
        assertThat(counter("livemig.migration.qemu.file.data", "side", "destination")).isEqualTo(984);
    }

    @Test
    void theLatestProgressSnapshotDrivesTheMigrationGauges() {
        metrics.bindTo(registry);
        metrics.progress(Events.activeSnapshot());

        assertThat(gauge("livemig.migration.ram.size")).isEqualTo(64.0 * Events.MIB);
        assertThat(gauge("livemig.migration.ram.remaining")).isEqualTo(3.0 * Events.MIB);
        assertThat(gauge("livemig.migration.dirty.rate")).isEqualTo(2500.0);
        // 800 megabits per second.
        assertThat(gauge("livemig.migration.throughput")).isEqualTo(100_000_000.0);
        assertThat(registry.get("livemig.migration.expected.downtime").timeGauge().value(TimeUnit.MILLISECONDS))
                .isEqualTo(300.0);
        assertThat(gauge("livemig.migration.cpu.throttle")).isEqualTo(30.0);
        assertThat(gauge("livemig.migration.dirty.syncs")).isEqualTo(4.0);

        metrics.progress(MigrationInfo.NONE);
        assertThat(gauge("livemig.migration.ram.remaining")).isZero();
        assertThat(gauge("livemig.migration.cpu.throttle")).isZero();
        assertThat(registry.get("livemig.migration.expected.downtime").timeGauge().value(TimeUnit.MILLISECONDS))
                .isZero();
    }

    @Test
    void aMigrationIsActiveUntilItEndsThenTimedAndCountedByOutcome() {
        metrics.bindTo(registry);
        metrics.migrationStarted(Side.SOURCE, Mode.PIN_ALL);
        metrics.migrationStarted(Side.SOURCE, Mode.DYNAMIC);
        assertThat(registry.get("livemig.migration.active").tag("side", "source").longTaskTimer().activeTasks())
                .isEqualTo(2);

        metrics.migrationEnded(Side.SOURCE, Outcome.COMPLETED, TimeUnit.SECONDS.toNanos(3),
                TimeUnit.MILLISECONDS.toNanos(40));
        metrics.migrationEnded(Side.SOURCE, Outcome.FAILED, TimeUnit.SECONDS.toNanos(1), -1);

        assertThat(registry.get("livemig.migration.active").tag("side", "source").longTaskTimer().activeTasks())
                .isZero();
        assertThat(registry.get("livemig.migration.duration").tags("side", "source", "outcome", "completed").timer()
                .totalTime(TimeUnit.SECONDS)).isEqualTo(3.0);
        assertThat(registry.get("livemig.migration.duration").tags("side", "source", "outcome", "failed").timer()
                .count())
                .isEqualTo(1);
        Timer downtime = registry.get("livemig.migration.downtime").timer();
        assertThat(downtime.count()).isEqualTo(1);
        assertThat(downtime.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(40.0);
        assertThat(counter("livemig.migration.outcomes", "side", "source", "outcome", "completed")).isEqualTo(1);
        assertThat(counter("livemig.migration.outcomes", "side", "source", "outcome", "failed")).isEqualTo(1);
        assertThat(counter("livemig.migration.outcomes", "side", "destination", "outcome", "cancelled")).isZero();
    }

    @Test
    void theTransportReportsLevelsCompletionsAndLoopRuns() {
        metrics.bindTo(registry);
        assertThat(metrics.transportRecorder()).isSameAs(metrics);
        metrics.sendQueueOutstanding(3);
        metrics.sendQueueOutstanding(-1);
        metrics.receiveCredits(64);
        metrics.receiveCredits(-4);
        metrics.workCompletion(WcOpcode.RDMA_WRITE, WcStatus.SUCCESS);
        metrics.workCompletion(WcOpcode.RDMA_WRITE, WcStatus.SUCCESS);
        metrics.workCompletion(WcOpcode.RECV, WcStatus.WR_FLUSH_ERR);
        metrics.eventLoopRun(false);
        metrics.eventLoopRun(false);
        metrics.eventLoopRun(true);

        assertThat(gauge("livemig.rdma.send.queue.outstanding")).isEqualTo(2.0);
        assertThat(gauge("livemig.rdma.receive.credits")).isEqualTo(60.0);
        assertThat(counter("livemig.rdma.cq.completions", "opcode", "rdma_write", "status", "success")).isEqualTo(2);
        assertThat(counter("livemig.rdma.cq.completions", "opcode", "recv", "status", "wr_flush_err")).isEqualTo(1);
        assertThat(registry.find("livemig.rdma.cq.completions").meters()).hasSize(2);
        assertThat(counter("livemig.rdma.eventloop.runs", "type", "poll")).isEqualTo(2);
        assertThat(counter("livemig.rdma.eventloop.runs", "type", "block")).isEqualTo(1);
    }

    @Test
    void countsEventsBeforeBindingAndPublishesThemOnceBound() {
        metrics.rdmaWritePosted(Events.MIB);
        metrics.controlMessage(Side.SOURCE, ControlType.COMPRESS, true, 44);
        metrics.workCompletion(WcOpcode.SEND, WcStatus.SUCCESS);
        metrics.migrationEnded(Side.DESTINATION, Outcome.CANCELLED, 1, -1);

        metrics.bindTo(registry);
        assertThat(counter("livemig.migration.rdma.write.data")).isEqualTo(Events.MIB);
        assertThat(counter("livemig.migration.control.messages", "side", "source", "type", "compress", "direction",
                "sent")).isEqualTo(1);
        assertThat(counter("livemig.rdma.cq.completions", "opcode", "send", "status", "success")).isEqualTo(1);
        assertThat(counter("livemig.migration.outcomes", "side", "destination", "outcome", "cancelled")).isEqualTo(1);
    }

    @Test
    void bindsToOneRegistryOnly() {
        metrics.bindTo(registry);
        assertThatThrownBy(() -> metrics.bindTo(new SimpleMeterRegistry()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("CompositeMeterRegistry");
    }

    @Test
    void putsExtraTagsOnEveryMeter() {
        new LivemigMetrics(Tags.of("instance", "a")).bindTo(registry);
        assertThat(registry.getMeters()).isNotEmpty()
                .allSatisfy(meter -> assertThat(meter.getId().getTag("instance")).isEqualTo("a"));
    }

    @Test
    void keepsPublishingWhenOnlyTheRegistryHoldsTheBinder() throws InterruptedException {
        bindAndForget(registry);
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(10);
        }
        // Function counters read their adders through weak references; the binder's strong gauges keep them alive.
        assertThat(counter("livemig.migration.rdma.write.data")).isEqualTo(Events.MIB);
        assertThat(gauge("livemig.rdma.receive.credits")).isEqualTo(4.0);
    }

    private static void bindAndForget(SimpleMeterRegistry registry) {
        LivemigMetrics forgotten = new LivemigMetrics();
        forgotten.bindTo(registry);
        forgotten.rdmaWritePosted(Events.MIB);
        forgotten.receiveCredits(4);
    }

    @Test
    void addsUpExactlyUnderConcurrentReports() throws InterruptedException {
        metrics.bindTo(registry);
        Thread[] threads = new Thread[4];
        for (int t = 0; t < threads.length; t++) {
            threads[t] = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 10_000; i++) {
                    metrics.rdmaWritePosted(4096);
                    metrics.controlMessage(Side.SOURCE, ControlType.READY, true, 12);
                    metrics.workCompletion(WcOpcode.RDMA_WRITE, WcStatus.SUCCESS);
                }
            });
        }
        for (Thread thread : threads) {
            thread.join();
        }
        assertThat(counter("livemig.migration.rdma.writes")).isEqualTo(40_000);
        assertThat(counter("livemig.migration.control.messages", "side", "source", "type", "ready", "direction",
                "sent")).isEqualTo(40_000);
        assertThat(counter("livemig.rdma.cq.completions", "opcode", "rdma_write", "status", "success"))
                .isEqualTo(40_000);
        assertThat(registry.get("livemig.migration.rdma.write.size").summary().count()).isEqualTo(40_000);
    }

    private double counter(String name, String... tags) {
        FunctionCounter counter = registry.get(name).tags(tags).functionCounter();
        return counter.count();
    }

    private double gauge(String name, String... tags) {
        return registry.get(name).tags(tags).gauge().value();
    }
}
