package io.livemig.migration.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.migration.status.MigrationInfo;
import io.livemig.migration.status.MigrationStatus;
import io.livemig.migration.status.MigrationTracker;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

class ProgressQueueTest {

    private final long[] clock = {0};
    private final MigrationTracker tracker = new MigrationTracker(() -> clock[0]);

    private MigrationInfo at(MigrationStatus status, long remaining) {
        tracker.status(status);
        tracker.remaining(remaining);
        clock[0] += 1_000_000;
        return tracker.snapshot();
    }

    @Test
    void statusChangesAreKeptAndUpdatesWithinAStatusConflateToTheNewest() {
        tracker.start(100);
        ProgressQueue queue = new ProgressQueue();
        queue.offer(at(MigrationStatus.SETUP, 100));
        queue.offer(at(MigrationStatus.ACTIVE, 90));
        queue.offer(at(MigrationStatus.ACTIVE, 80));
        queue.offer(at(MigrationStatus.ACTIVE, 70));
        queue.offer(at(MigrationStatus.DEVICE, 10));
        queue.offer(at(MigrationStatus.COMPLETED, 0));
        List<Long> remaining = new ArrayList<>();
        List<MigrationStatus> statuses = new ArrayList<>();
        MigrationInfo info;
        while ((info = queue.poll()) != null) {
            statuses.add(info.status());
            remaining.add(info.ram().remaining());
        }
        assertThat(statuses).containsExactly(MigrationStatus.SETUP, MigrationStatus.ACTIVE, MigrationStatus.ACTIVE,
                MigrationStatus.DEVICE, MigrationStatus.COMPLETED);
        // The first active snapshot (the change) and the newest update; the one in between was replaced.
        assertThat(remaining).containsExactly(100L, 90L, 70L, 10L, 0L);
    }

    @Test
    void aSnapshotAlreadyTakenIsNeverReplacedAndASlowSubscriberSeesEveryStatusInVirtualTime() {
        tracker.start(100);
        Sinks.Many<MigrationInfo> sink = Sinks.many().unicast().onBackpressureBuffer(new ProgressQueue());
        StepVerifier.create(sink.asFlux(), 0)
                .then(() -> sink.tryEmitNext(at(MigrationStatus.SETUP, 100)))
                .thenRequest(1)
                .assertNext(i -> assertThat(i.status()).isEqualTo(MigrationStatus.SETUP))
                .then(() -> {
                    for (long r = 99; r >= 50; r--) {
                        sink.tryEmitNext(at(MigrationStatus.ACTIVE, r));
                    }
                    sink.tryEmitNext(at(MigrationStatus.CANCELLING, 50));
                    sink.tryEmitNext(at(MigrationStatus.CANCELLED, 50));
                    sink.tryEmitComplete();
                })
                .thenRequest(Long.MAX_VALUE)
                .assertNext(i -> assertThat(i.ram().remaining()).isEqualTo(99))
                .assertNext(i -> assertThat(i.ram().remaining()).isEqualTo(50))
                .assertNext(i -> assertThat(i.status()).isEqualTo(MigrationStatus.CANCELLING))
                .assertNext(i -> assertThat(i.status()).isEqualTo(MigrationStatus.CANCELLED))
                .verifyComplete();
    }
}
