package io.livemig.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.migration.ram.RamBlock;
import io.livemig.migration.ram.RamBlocks;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;

class StressWorkloadTest {

    private static void awaitPages(StressWorkload workload, long pages) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (workload.pagesWritten() < pages) {
            assertThat(System.nanoTime()).as("pages written: " + workload.pagesWritten()).isLessThan(deadline);
            Thread.sleep(5);
        }
    }

    @Test
    void rewritesOnlyTheFirstVmBytesAcrossBlocksAndMarksThemDirty() throws Exception {
        try (RamBlocks two = RamLayout.allocate(RamLayout.parse(0, "a:8K,b:64K"), List.of());
                StressWorkload workload = new StressWorkload(two, 16 * 1024, 0)) {
            workload.start();
            awaitPages(workload, 100);
            workload.pause().block();
            RamBlock a = two.get(0);
            RamBlock b = two.get(1);
            assertThat(a.dirtyBitmap().isDirty(0)).isTrue();
            assertThat(a.dirtyBitmap().isDirty(1)).isTrue();
            assertThat(b.dirtyBitmap().isDirty(1)).isTrue();
            assertThat(b.dirtyBitmap().isDirty(2)).as("beyond --vm-bytes").isFalse();
        }
    }

    @Test
    void writesNothingWhileHeldAndGoesOnOnceTheHoldIsDisposed() throws Exception {
        try (RamBlocks blocks = RamLayout.allocate(Map.of("pc.ram", 1L << 20), List.of());
                StressWorkload workload = new StressWorkload(blocks, 1L << 20, 0)) {
            workload.start();
            awaitPages(workload, 1000);
            Disposable hold = workload.holdWrites().block();
            long held = workload.pagesWritten();
            // The hold is granted between two batches: nothing is written until it is disposed.
            assertThat(workload.pagesWritten()).isEqualTo(held);
            hold.dispose();
            hold.dispose(); // idempotent: the writer's own permit is not given away twice
            awaitPages(workload, held + 1000);
            workload.pause().block();
        }
    }

    @Test
    void writesNothingWhilePausedAndRunsAgainOnResume() throws Exception {
        try (RamBlocks blocks = RamLayout.allocate(Map.of("pc.ram", 1L << 20), List.of());
                StressWorkload workload = new StressWorkload(blocks, 1L << 20, 0)) {
            workload.start();
            awaitPages(workload, 1000);
            workload.pause().block();
            long paused = workload.pagesWritten();
            // pause() returns once the writer has stopped: nothing is written after it, however long we look.
            assertThat(workload.pagesWritten()).isEqualTo(paused);
            workload.resume();
            awaitPages(workload, paused + 1000);
        }
    }
}
