package io.livemig.migration.monitor;

import io.livemig.migration.params.MigrationCapabilities;
import io.livemig.migration.params.MigrationCapability;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.status.MigrationInfo;
import io.livemig.migration.status.MigrationStatus;
import io.livemig.migration.status.RamInfo;
import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.Optional;
import java.util.StringJoiner;

/**
 * The {@code info} subcommands rendered as QEMU's HMP prints them ({@code hmp_info_migrate},
 * {@code hmp_info_migrate_capabilities}, {@code hmp_info_migrate_parameters} in QEMU's
 * migration/migration-hmp-cmds.c, the line format QEMU used up to 9.2). Lines QEMU prints for features
 * livemig lacks (xbzrle, postcopy, multifd, TLS, the {@code globals} dump) are left out; counters QEMU
 * prints only when non-zero are printed likewise.
 */
final class HmpInfo {

    private HmpInfo() {
    }

    /**
     * {@code info migrate}: nothing before a migration (QEMU prints no status then), except where an
     * incoming migration listens.
     */
    static String migrate(MigrationInfo info, Optional<InetSocketAddress> listening) {
        StringJoiner out = new StringJoiner("\n");
        if (info.status() != MigrationStatus.NONE) {
            status(out, info);
        }
        if (info.ram() != null) {
            ram(out, info.ram());
        }
        info.cpuThrottlePercentage().ifPresent(v -> out.add("cpu throttle percentage: " + v));
        listening.ifPresent(address -> {
            out.add("socket address: [");
            out.add("\t" + MonitorAddress.hostPort("rdma", address));
            out.add("]");
        });
        return out.toString();
    }

    private static void status(StringJoiner out, MigrationInfo info) {
        boolean failed = info.status() == MigrationStatus.FAILED && info.errorDesc() != null;
        out.add("Migration status: " + info.status().qmpName() + (failed ? " (" + info.errorDesc() + ")" : ""));
        out.add("total time: " + info.totalTime().orElse(0) + " ms");
        info.expectedDowntime().ifPresent(v -> out.add("expected downtime: " + v + " ms"));
        info.downtime().ifPresent(v -> out.add("downtime: " + v + " ms"));
        info.setupTime().ifPresent(v -> out.add("setup: " + v + " ms"));
    }

    private static void ram(StringJoiner out, RamInfo ram) {
        out.add("transferred ram: " + (ram.transferred() >> 10) + " kbytes");
        out.add("throughput: " + String.format(Locale.ROOT, "%.2f", ram.mbps()) + " mbps");
        out.add("remaining ram: " + (ram.remaining() >> 10) + " kbytes");
        out.add("total ram: " + (ram.total() >> 10) + " kbytes");
        out.add("duplicate: " + ram.duplicate() + " pages");
        out.add("normal: " + ram.normal() + " pages");
        out.add("normal bytes: " + (ram.normalBytes() >> 10) + " kbytes");
        out.add("dirty sync count: " + ram.dirtySyncCount());
        out.add("page size: " + (ram.pageSize() >> 10) + " kbytes");
        out.add("multifd bytes: 0 kbytes");
        out.add("pages-per-second: " + ram.pagesPerSecond());
        if (ram.dirtyPagesRate() != 0) {
            out.add("dirty pages rate: " + ram.dirtyPagesRate() + " pages");
        }
        if (ram.precopyBytes() != 0) {
            out.add("precopy ram: " + (ram.precopyBytes() >> 10) + " kbytes");
        }
        if (ram.downtimeBytes() != 0) {
            out.add("downtime ram: " + (ram.downtimeBytes() >> 10) + " kbytes");
        }
    }

    /** {@code info migrate_capabilities}: every capability, {@code NAME: on|off}. */
    static String capabilities(MigrationCapabilities capabilities) {
        StringJoiner out = new StringJoiner("\n");
        for (MigrationCapability capability : MigrationCapability.values()) {
            out.add(capability.qmpName() + ": " + (capabilities.isOn(capability) ? "on" : "off"));
        }
        return out.toString();
    }

    /** {@code info migrate_parameters}: every parameter with QEMU's unit. */
    static String parameters(MigrationParameters parameters) {
        StringJoiner out = new StringJoiner("\n");
        for (MigrationParameter parameter : MigrationParameter.values()) {
            out.add(parameter.hmpLine(parameters));
        }
        return out.toString();
    }
}
