package io.livemig.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.util.ResourceLeakDetector;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns Netty leak reports into test failures.
 *
 * <p>Netty only notices a leak when the leaked object has been garbage-collected <em>and</em> a later
 * allocation drains the detector's reference queue. {@link #assertNoLeaks()} forces both: it runs the
 * collector, allocates and releases tracked buffers, and then fails with every report collected by
 * {@link LeakRecordingDetector} since the previous check.
 */
public final class LeakCheck {

    private static final List<String> LEAKS = new ArrayList<>();

    private LeakCheck() {
    }

    static void record(String report) {
        synchronized (LEAKS) {
            LEAKS.add(report);
        }
    }

    /**
     * Whether the build installed {@link LeakRecordingDetector} (so that leaks can be recorded at all).
     *
     * @return true when leaks are being recorded
     */
    public static boolean isRecording() {
        return LeakRecordingDetector.class.getName().equals(System.getProperty("io.netty.customResourceLeakDetector"))
                && ResourceLeakDetector.getLevel() == ResourceLeakDetector.Level.PARANOID;
    }

    /**
     * Runs the collector and waits (at most 2 s) until the reference handler has enqueued what it cleared: a
     * collected buffer's leak reference reaches the detector's queue only then, not when {@code System.gc()}
     * returns, so draining right away could miss it.
     */
    private static void collect() {
        ReferenceQueue<Object> queue = new ReferenceQueue<>();
        WeakReference<Object> sentinel = new WeakReference<>(new Object(), queue);
        System.gc();
        try {
            queue.remove(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Reference.reachabilityFence(sentinel);
    }

    /**
     * Collects garbage, lets Netty's detectors report what was lost, and fails if anything leaked.
     *
     * @throws AssertionError listing every leak report since the previous call
     */
    public static void assertNoLeaks() {
        for (int i = 0; i < 3; i++) {
            collect();
            // Each tracked allocation drains the detector's reference queue and reports collected leaks.
            for (int j = 0; j < 4; j++) {
                ByteBuf heap = Unpooled.buffer(1);
                heap.release();
                ByteBuf direct = Unpooled.directBuffer(1);
                direct.release();
                ByteBuf pooled = PooledByteBufAllocator.DEFAULT.buffer(1);
                pooled.release();
            }
        }
        List<String> found;
        synchronized (LEAKS) {
            found = new ArrayList<>(LEAKS);
            LEAKS.clear();
        }
        if (!found.isEmpty()) {
            throw new AssertionError(found.size() + " Netty buffer leak(s) detected:\n" + String.join("\n\n", found));
        }
    }
}
