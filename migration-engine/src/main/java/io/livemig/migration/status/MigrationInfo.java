package io.livemig.migration.status;

import java.util.Locale;
import java.util.OptionalLong;

/**
 * One immutable snapshot of a migration, shaped as QEMU's {@code query-migrate} reply
 * ({@code MigrationInfo}, spec section 11.3). Fields QEMU only reports in some states are
 * {@link OptionalLong}s or null here and are left out of {@link #toQmpJson()} when absent, exactly as QEMU
 * omits them.
 *
 * @param status the state
 * @param totalTime ms since the migration started (absent before)
 * @param setupTime ms spent in setup (connect, RAM blocks, pinning)
 * @param expectedDowntime ms the pause would take now (while active)
 * @param downtime ms the application was paused (once completed)
 * @param ram the RAM statistics (absent before a migration started, and on the destination, as in QEMU)
 * @param cpuThrottlePercentage the auto-converge throttle (absent when not throttling)
 * @param errorDesc why it failed (failed only)
 */
public record MigrationInfo(MigrationStatus status, OptionalLong totalTime, OptionalLong setupTime,
        OptionalLong expectedDowntime, OptionalLong downtime, RamInfo ram, OptionalLong cpuThrottlePercentage,
        String errorDesc) {

    /** Before any migration ({@link #toQmpJson()} gives {@code {}}, as QEMU answers then). */
    public static final MigrationInfo NONE = new MigrationInfo(MigrationStatus.NONE, OptionalLong.empty(),
            OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty(), null, OptionalLong.empty(), null);

    /**
     * The QMP {@code return} value of {@code query-migrate}, with QEMU's member names and order. QEMU answers
     * {@code {}} when no migration has run.
     *
     * @return compact JSON
     */
    public String toQmpJson() {
        if (status == MigrationStatus.NONE) {
            return "{}";
        }
        StringBuilder json = new StringBuilder("{");
        member(json, "status", quote(status.qmpName()));
        if (ram != null) {
            member(json, "ram", ramJson(ram));
        }
        totalTime.ifPresent(v -> member(json, "total-time", Long.toString(v)));
        expectedDowntime.ifPresent(v -> member(json, "expected-downtime", Long.toString(v)));
        downtime.ifPresent(v -> member(json, "downtime", Long.toString(v)));
        setupTime.ifPresent(v -> member(json, "setup-time", Long.toString(v)));
        cpuThrottlePercentage.ifPresent(v -> member(json, "cpu-throttle-percentage", Long.toString(v)));
        if (errorDesc != null) {
            member(json, "error-desc", quote(errorDesc));
        }
        return json.append('}').toString();
    }

    private static String ramJson(RamInfo ram) {
        StringBuilder json = new StringBuilder("{");
        member(json, "transferred", Long.toString(ram.transferred()));
        member(json, "remaining", Long.toString(ram.remaining()));
        member(json, "total", Long.toString(ram.total()));
        member(json, "duplicate", Long.toString(ram.duplicate()));
        member(json, "normal", Long.toString(ram.normal()));
        member(json, "normal-bytes", Long.toString(ram.normalBytes()));
        member(json, "dirty-pages-rate", Long.toString(ram.dirtyPagesRate()));
        member(json, "mbps", number(ram.mbps()));
        member(json, "dirty-sync-count", Long.toString(ram.dirtySyncCount()));
        member(json, "postcopy-requests", "0");
        member(json, "page-size", Long.toString(ram.pageSize()));
        member(json, "multifd-bytes", Long.toString(ram.multifdBytes()));
        member(json, "pages-per-second", Long.toString(ram.pagesPerSecond()));
        member(json, "precopy-bytes", Long.toString(ram.precopyBytes()));
        member(json, "downtime-bytes", Long.toString(ram.downtimeBytes()));
        member(json, "postcopy-bytes", "0");
        member(json, "dirty-sync-missed-zero-copy", "0");
        return json.append('}').toString();
    }

    private static void member(StringBuilder json, String name, String value) {
        if (json.length() > 1) {
            json.append(", ");
        }
        json.append('"').append(name).append("\": ").append(value);
    }

    private static String number(double value) {
        // QMP prints doubles with %.17g trimmed; a plain decimal is what clients parse.
        return value == Math.rint(value) && Math.abs(value) < 1e15
                ? String.format(Locale.ROOT, "%.1f", value)
                : String.format(Locale.ROOT, "%.6f", value);
    }

    /**
     * A JSON string literal.
     *
     * @param text the text
     * @return the quoted, escaped text
     */
    public static String quote(String text) {
        StringBuilder out = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
