package io.livemig.migration.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.livemig.migration.control.DestinationControl;
import io.livemig.migration.control.LocalControlPlane;
import io.livemig.migration.control.SourceControl;
import io.livemig.migration.destination.IncomingMigration;
import io.livemig.migration.destination.MigrationDestination;
import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.ram.DirtyPages;
import io.livemig.migration.ram.DirtyTracker;
import io.livemig.migration.ram.DirtyTracking;
import io.livemig.migration.ram.DirtyTrackingMode;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.status.MigrationTracker;
import io.livemig.migration.testing.PlacingDataPath;
import io.livemig.migration.testing.TestSources;
import io.netty.channel.Channel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.Exceptions;
import reactor.core.publisher.Mono;

/**
 * The pipeline holds the application's writes ({@link Workload#holdWrites}) around each pre-copy harvest of a tracker
 * whose harvest is not atomic (soft-dirty's read, then clear), and only then: never for an atomic tracker, never for
 * the final round. The tracker here is explicit marking that claims a non-atomic harvest (the build machines have no
 * soft-dirty; the lab runs the real one: {@code SoftDirtyRaceTest}); it reports the whole RAM dirty for three rounds
 * so that three harvests happen before the switchover. The migration runs whole, over Netty's local transport.
 */
class WriteHoldTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final long MIB = 1 << 20;
    private static final String UNHELD_WARNING = "source: soft-dirty tracking reads and clears in two steps and the "
            + "application cannot hold its writes around them (Workload.holdWrites): a write between the two is lost; "
            + "keep x-verify on";
    private static final List<String> HELD_ROUND = List.of("hold", "harvest, writes held", "release");

    private LocalControlPlane plane;
    private final List<String> events = Collections.synchronizedList(new ArrayList<>());
    /** Held here: the JUL logger behind SourcePipeline's System.Logger, with the handler that records it. */
    private final Logger log = Logger.getLogger(SourcePipeline.class.getName());
    private final List<LogRecord> warnings = Collections.synchronizedList(new ArrayList<>());
    private final Handler recorder = new Handler() {
        @Override
        public void publish(LogRecord record) {
            if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
                warnings.add(record);
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void start() throws InterruptedException {
        log.addHandler(recorder);
        plane = new LocalControlPlane("write-hold-test");
    }

    @AfterEach
    void stop() throws InterruptedException {
        log.removeHandler(recorder);
        plane.close();
    }

    @Test
    void eachPrecopyHarvestOfANonAtomicTrackerRunsWithTheWritesHeldAndTheFinalOneWithout() throws Exception {
        migrate(new HoldingWorkload(true), false, -1);
        List<String> expected = new ArrayList<>();
        for (int round = 0; round < 3; round++) {
            expected.addAll(HELD_ROUND);
        }
        expected.addAll(List.of("pause", "harvest"));
        assertThat(events).containsExactlyElementsOf(expected);
        assertThat(warnings).isEmpty();
    }

    @Test
    void anAtomicTrackerNeverHoldsTheWrites() throws Exception {
        migrate(new HoldingWorkload(true), true, -1);
        assertThat(events).containsExactly("harvest", "harvest", "harvest", "pause", "harvest");
        assertThat(warnings).isEmpty();
    }

    @Test
    void aHarvestThatFailsReleasesTheHoldAndFailsTheMigration() throws Exception {
        assertThatThrownBy(() -> migrate(new HoldingWorkload(true), false, 1))
                .isInstanceOf(IOException.class)
                .hasMessage("pagemap read failed");
        assertThat(events).containsExactly("hold", "harvest, writes held", "release",
                "hold", "harvest, writes held", "release");
    }

    @Test
    void aWorkloadThatCannotHoldIsWarnedOnceAndItsHarvestsRunWhileItWrites() throws Exception {
        migrate(new HoldingWorkload(false), false, -1);
        assertThat(events).containsExactly("harvest", "harvest", "harvest", "pause", "harvest");
        assertThat(warnings).extracting(LogRecord::getMessage).containsExactly(UNHELD_WARNING);
    }

    @Test
    void aHoldNeverGrantedFailsTheMigrationAfterTheTimeout() {
        Workload stuck = new HoldingWorkload(true) {
            @Override
            public Mono<reactor.core.Disposable> holdWrites() {
                return Mono.never();
            }
        };
        assertThatThrownBy(() -> migrate(stuck, false, -1, Duration.ofSeconds(1)))
                .isInstanceOf(IOException.class)
                .hasMessage("migration failed: holding the application's writes timed out after 1000 ms");
        assertThat(events).isEmpty();
    }

    @Test
    void aHoldGrantedAfterTheTimeoutIsReleasedAtOnce() throws Exception {
        CompletableFuture<reactor.core.Disposable> late = new CompletableFuture<>();
        Workload slow = new HoldingWorkload(true) {
            @Override
            public Mono<reactor.core.Disposable> holdWrites() {
                return Mono.fromFuture(late, true);
            }
        };
        assertThatThrownBy(() -> migrate(slow, false, -1, Duration.ofSeconds(1)))
                .isInstanceOf(IOException.class)
                .hasMessage("migration failed: holding the application's writes timed out after 1000 ms");
        late.complete(() -> events.add("late hold released"));
        assertThat(events).containsExactly("late hold released");
    }

    private void migrate(Workload workload, boolean atomic, int failingHarvest) throws Exception {
        migrate(workload, atomic, failingHarvest, TIMEOUT);
    }

    /**
     * Migrates 4 MiB of random bytes; on success, asserts that the destination holds the source's bytes.
     *
     * @param failingHarvest the harvest (0 for the first) that throws, or -1
     */
    private void migrate(Workload workload, boolean atomic, int failingHarvest, Duration timeout) throws Exception {
        try (RamBlocks source = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 4 * MIB)))) {
            SplittableRandom random = new SplittableRandom(19);
            for (long offset = 0; offset < source.totalBytes(); offset += 8) {
                source.get(0).memory().set(ValueLayout.JAVA_LONG, offset, random.nextLong());
            }
            SourceControl control = new SourceControl();
            Channel channel = plane.connect(control);
            try {
                PlacingDataPath fabric = new PlacingDataPath();
                CompletableFuture<IncomingMigration> incoming = receive(plane.accepted(), fabric);
                MigrationTracker tracker = new MigrationTracker();
                tracker.start(source.totalBytes());
                // The mode only keeps the rounds on the calling thread, as explicit tracking does.
                SourcePipeline pipeline = new SourcePipeline(control, fabric, source,
                        TestSources.options(false, () -> TestSources.FAST, timeout), false, DirtyTrackingMode.EXPLICIT)
                        .dirtyTracker(blocks -> new RecordingTracker(DirtyTracking.open(DirtyTrackingMode.EXPLICIT,
                                blocks), atomic, failingHarvest, (HoldingWorkload) workload));
                try {
                    pipeline.run(workload, tracker, new SourcePipeline.Events() { }).block(TIMEOUT);
                } catch (RuntimeException e) {
                    incoming.handle((done, error) -> done).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                    if (Exceptions.unwrap(e) instanceof IOException io) {
                        throw io;
                    }
                    throw e;
                }
                try (RamBlocks received = incoming.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS).blocks()) {
                    assertThat(received.get(0).memory().mismatch(source.get(0).memory())).isEqualTo(-1);
                }
            } finally {
                channel.close().sync();
            }
        }
    }

    private static CompletableFuture<IncomingMigration> receive(DestinationControl control, PlacingDataPath fabric) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return new MigrationDestination(control, fabric::registerRemote, false, null, 64 * MIB, MIB, TIMEOUT)
                        .run(status -> { }).block();
            } finally {
                // As DestinationServer does: closing tells the source that the load finished.
                control.closeConnection().block(TIMEOUT);
            }
        });
    }

    /** Records holds, releases and pauses; holds only when it can. */
    private class HoldingWorkload implements Workload {
        private final boolean canHold;
        private volatile boolean held;

        HoldingWorkload(boolean canHold) {
            this.canHold = canHold;
        }

        @Override
        public Mono<reactor.core.Disposable> holdWrites() {
            if (!canHold) {
                return Mono.empty();
            }
            return Mono.fromCallable(() -> {
                held = true;
                events.add("hold");
                return () -> {
                    held = false;
                    events.add("release");
                };
            });
        }

        @Override
        public Mono<Void> pause() {
            return Mono.fromRunnable(() -> events.add("pause"));
        }
    }

    /**
     * Explicit marks with a harvest that says whether the application's writes were held; the whole RAM reads dirty
     * after the bulk round and the next two, so that the migration harvests three times before the switchover.
     */
    private class RecordingTracker implements DirtyTracker {
        private final DirtyTracker marks;
        private final boolean atomic;
        private final int failingHarvest;
        private final HoldingWorkload workload;
        private int harvests;
        private int peeks;

        RecordingTracker(DirtyTracker marks, boolean atomic, int failingHarvest, HoldingWorkload workload) {
            this.marks = marks;
            this.atomic = atomic;
            this.failingHarvest = failingHarvest;
            this.workload = workload;
        }

        @Override
        public DirtyTrackingMode mode() {
            return DirtyTrackingMode.SOFT_DIRTY;
        }

        @Override
        public String reason() {
            return "requested";
        }

        @Override
        public boolean atomicHarvest() {
            return atomic;
        }

        @Override
        public void start() {
            marks.start();
        }

        @Override
        public List<DirtyPages> syncAndClear() {
            events.add(workload.held ? "harvest, writes held" : "harvest");
            if (harvests++ == failingHarvest) {
                throw new UncheckedIOException(new IOException("pagemap read failed"));
            }
            return marks.syncAndClear();
        }

        @Override
        public long dirtyPages() {
            // A terabyte dirty: no switchover fits until the third round is over.
            return ++peeks <= 3 ? 1L << 28 : marks.dirtyPages();
        }

        @Override
        public void close() {
            marks.close();
        }
    }
}
