package io.livemig.cli;

import io.livemig.migration.status.MigrationInfo;
import io.livemig.migration.status.MigrationStatus;
import io.livemig.migration.status.RamInfo;
import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

/**
 * Shows one end's migrations as they run ({@code --progress}): a one-line bar redrawn with {@code \r} on a
 * terminal, plain lines every second and at each status change otherwise, or nothing; in every mode the final
 * report ({@code info migrate}) once a migration ends.
 *
 * <p>The report is printed on the thread that publishes the final status, before the engine completes the
 * migration's stream or future: a caller that waits for either and then exits never loses it.
 */
final class ProgressPrinter implements AutoCloseable {

    /** How progress is shown. */
    enum Mode {
        /** A one-line bar, redrawn in place. */
        BAR,
        /** A line every second and at each status change. */
        LINES,
        /** Only the final report. */
        NONE
    }

    private static final int BAR_WIDTH = 30;
    private static final long MIN_SAMPLE_NANOS = 150_000_000;

    private final Mode mode;
    private final PrintStream out;
    private final String side;
    private final Supplier<MigrationInfo> info;
    private final Supplier<String> report;
    private final ScheduledExecutorService ticker;
    private final Disposable changes;
    /** The last status shown; guarded by {@code this}. */
    private MigrationStatus shown = MigrationStatus.NONE;
    /** Whether a bar is on screen without its line ended; guarded by {@code this}. */
    private boolean barDrawn;
    /** Bytes transferred at the last tick, and when: the rate shown is measured between ticks. */
    private long lastTransferred;
    private long lastNanos;
    private double rate;
    /** The round shown ({@code dirty-sync-count}) and the bytes it started with: the bar's 100%. */
    private long round = -1;
    private long roundBytes;

    /**
     * Starts showing progress.
     *
     * @param mode how
     * @param out where
     * @param side {@code source} or {@code destination}, the prefix of each line
     * @param info {@code query-migrate}
     * @param statusChanges the end's status changes
     * @param report the final report, rendered when a migration ends; null for none (the HMP session on the
     *        same terminal shows it when asked)
     */
    ProgressPrinter(Mode mode, PrintStream out, String side, Supplier<MigrationInfo> info,
            Flux<MigrationInfo> statusChanges, Supplier<String> report) {
        this.mode = mode;
        this.out = out;
        this.side = side;
        this.info = info;
        this.report = report;
        this.changes = statusChanges.subscribe(this::statusChanged, error -> { });
        if (mode == Mode.NONE) {
            this.ticker = null;
        } else {
            this.ticker = Executors.newSingleThreadScheduledExecutor(task -> Thread.ofPlatform()
                    .name("livemig-progress").daemon().unstarted(task));
            long period = mode == Mode.BAR ? 200 : 1000;
            ticker.scheduleAtFixedRate(this::tick, period, period, TimeUnit.MILLISECONDS);
        }
    }

    private synchronized void statusChanged(MigrationInfo snapshot) {
        MigrationStatus status = snapshot.status();
        if (status == shown) {
            return;
        }
        shown = status;
        measureRate(snapshot.ram());
        if (mode == Mode.LINES) {
            out.println(line(snapshot));
        }
        if (status.isFinished()) {
            endBar();
            if (report != null) {
                out.println(report.get());
            }
            out.flush();
        } else if (mode == Mode.BAR) {
            drawBar(snapshot);
        }
    }

    private synchronized void tick() {
        MigrationInfo snapshot = info.get();
        if (!snapshot.status().isActive()) {
            return;
        }
        measureRate(snapshot.ram());
        if (mode == Mode.BAR) {
            drawBar(snapshot);
        } else {
            out.println(line(snapshot));
        }
    }

    private void drawBar(MigrationInfo snapshot) {
        RamInfo ram = snapshot.ram();
        int percent = percent(ram);
        int filled = percent < 0 ? 0 : percent * BAR_WIDTH / 100;
        StringBuilder text = new StringBuilder("\r").append(side).append(" [")
                .append("#".repeat(filled)).append(".".repeat(BAR_WIDTH - filled)).append("] ")
                .append(percent < 0 ? "  -" : String.format(Locale.ROOT, "%3d", percent)).append("% ");
        if (ram != null && ram.total() > 0) {
            text.append(String.format(Locale.ROOT, "%8.1f MiB/s  remaining %s  round %d  ", mibPerSecond(ram),
                    ByteSize.format(ram.remaining()), ram.dirtySyncCount()));
        }
        text.append(snapshot.status().qmpName()).append("    ");
        out.print(text);
        out.flush();
        barDrawn = true;
    }

    private void endBar() {
        if (barDrawn) {
            out.println();
            barDrawn = false;
        }
    }

    private String line(MigrationInfo snapshot) {
        StringBuilder text = new StringBuilder(side).append(": ").append(snapshot.status().qmpName());
        RamInfo ram = snapshot.ram();
        // A destination learns the RAM's size from the block list only; its snapshots carry no RAM counters.
        if (ram != null && ram.total() > 0) {
            int percent = percent(ram);
            if (percent >= 0) {
                text.append(' ').append(percent).append('%');
            }
            text.append(String.format(Locale.ROOT, ", transferred %s, %.1f MiB/s, remaining %s, round %d",
                    ByteSize.format(ram.transferred()), mibPerSecond(ram), ByteSize.format(ram.remaining()),
                    ram.dirtySyncCount()));
        }
        snapshot.totalTime().ifPresent(ms -> text.append(", ").append(ms).append(" ms"));
        return text.toString();
    }

    /**
     * Percent of the current round sent: of the whole RAM in the bulk round, of what was dirty at the sync
     * that started it afterwards; -1 when the total is not known (a destination).
     */
    private int percent(RamInfo ram) {
        if (ram == null || ram.total() <= 0) {
            return -1;
        }
        if (ram.dirtySyncCount() != round) {
            round = ram.dirtySyncCount();
            roundBytes = round <= 1 ? ram.total() : ram.remaining();
        }
        if (roundBytes <= 0) {
            return 100;
        }
        long sent = Math.max(0, roundBytes - ram.remaining());
        return (int) Math.min(100, sent * 100 / roundBytes);
    }

    /**
     * The engine's {@code mbps} covers the last finished round only (0 during the first); between ticks the
     * transferred counter gives the rate now.
     */
    private void measureRate(RamInfo ram) {
        long now = System.nanoTime();
        if (ram == null || ram.transferred() < lastTransferred) {
            lastTransferred = 0;
            lastNanos = now;
            return;
        }
        // Status changes come in bursts (pre-switchover, device, completed within ms): such a short interval
        // says nothing about the rate, so the sample waits for a tick's length.
        if (now - lastNanos >= MIN_SAMPLE_NANOS) {
            rate = lastNanos == 0 ? 0 : (ram.transferred() - lastTransferred) / ((now - lastNanos) / 1e9);
            lastTransferred = ram.transferred();
            lastNanos = now;
        }
    }

    private double mibPerSecond(RamInfo ram) {
        return (rate > 0 ? rate : ram.mbps() * 1e6 / 8) / (1 << 20);
    }

    /** Stops the ticker and the subscription (idempotent); ends a bar left on screen. */
    @Override
    public void close() {
        changes.dispose();
        if (ticker != null) {
            ticker.shutdownNow();
        }
        synchronized (this) {
            endBar();
        }
    }
}
