package io.livemig.benchmarks.ram;

import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.ram.DirtyPages;
import io.livemig.migration.ram.DirtyTracker;
import io.livemig.migration.ram.DirtyTracking;
import io.livemig.migration.ram.DirtyTrackingMode;
import io.livemig.migration.ram.RamBlock;
import io.livemig.migration.ram.RamBlocks;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What one harvest costs: {@link DirtyTracker#syncAndClear()} of one 4 GiB block (1,048,576 pages, every page
 * populated, transparent huge pages advised as for any {@link RamBlock#allocate allocated} block) with a given share
 * of its pages written since the last harvest, per {@link DirtyTrackingMode}. The explicit bitmap is the baseline:
 * the kernel modes' figures are read as ratios to it, at the same share.
 *
 * <p>Before each measured harvest, outside the measurement, the page set is written with plain stores (and, in
 * explicit mode only, marked as an application must): the write-protect faults the kernel modes make the application
 * take are the application's cost, not the harvest's, and are not in these figures.
 *
 * <p>Run one at a time (4 GiB each): {@code scripts/benchmarks.sh DirtyTracking -f 1 -wi 2 -i 5
 * -p mode=explicit,uffd-wp} (soft-dirty where the kernel has it: a mode unavailable here fails its trial with the
 * gate's cause). {@code scripts/rxe-lab.sh --dirty-bench} runs explicit and soft-dirty in the Soft-RoCE lab's guest,
 * whose kernel has soft-dirty.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx1g"})
public class DirtyTrackingBenchmark {

    /** The tracking mode, by its command-line name. */
    @Param({"explicit", "uffd-wp", "soft-dirty"})
    public String mode;

    /** Percent of the block's pages written before each harvest. */
    @Param({"1", "10", "50"})
    public int dirtyPercent;

    /**
     * The block's size in MiB: 4 GiB, the figure; smaller only where 4 GiB does not fit the time (the lab's
     * guest runs under emulation).
     */
    @Param({"4096"})
    public int blockMiB;

    private RamBlocks blocks;
    private RamBlock block;
    private DirtyTracker tracker;
    private long[] pages;
    private long value;
    private long harvested = -1;

    /** Maps and populates the block, picks the page set, starts the tracker. */
    @Setup(Level.Trial)
    public void setUp() {
        DirtyTrackingMode tracking = DirtyTrackingMode.of(mode);
        DirtyTracking.ensureAvailability(tracking);
        blocks = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", (long) blockMiB << 20)));
        block = blocks.get(0);
        block.populate();
        // A fixed random page set (reservoir-free: each page in with the share's probability).
        SplittableRandom random = new SplittableRandom(19);
        long total = block.pages();
        long[] chosen = new long[(int) (total * dirtyPercent / 100 + total / 50)];
        int n = 0;
        for (long page = 0; page < total && n < chosen.length; page++) {
            if (random.nextInt(100) < dirtyPercent) {
                chosen[n++] = page;
            }
        }
        pages = Arrays.copyOf(chosen, n);
        tracker = DirtyTracking.open(tracking, blocks);
        tracker.start();
    }

    /** Writes the page set (and marks it in explicit mode), outside the measured harvest. */
    @Setup(Level.Iteration)
    public void dirty() {
        MemorySegment memory = block.memory();
        boolean mark = tracker.mode() == DirtyTrackingMode.EXPLICIT;
        value++;
        for (long page : pages) {
            memory.set(ValueLayout.JAVA_LONG, page * RamBlock.PAGE_SIZE, value);
            if (mark) {
                block.dirtyBitmap().mark(page);
            }
        }
    }

    /**
     * One harvest.
     *
     * @return the block's snapshot (checked for the expected page count in {@link #check})
     */
    @Benchmark
    public DirtyPages syncAndClear() {
        DirtyPages dirty = tracker.syncAndClear().getFirst();
        harvested = dirty.count();
        return dirty;
    }

    /** A harvest that found other than the pages written measured the wrong thing: fail the run. */
    @TearDown(Level.Iteration)
    public void check() {
        if (harvested != pages.length) {
            throw new IllegalStateException(mode + " harvested " + harvested + " pages, " + pages.length
                    + " were written");
        }
    }

    /** Stops tracking and unmaps the block. */
    @TearDown(Level.Trial)
    public void tearDown() {
        tracker.close();
        blocks.close();
    }
}
