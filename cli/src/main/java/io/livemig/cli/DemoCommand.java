package io.livemig.cli;

import io.livemig.migration.api.MigrationFailedException;
import io.livemig.migration.monitor.HmpMonitor;
import io.livemig.migration.monitor.MigrationTarget;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code livemig demo}: a live migration from start to finish in one process: RAM filled with random data, a
 * workload rewriting a quarter of it, x-verify on, progress, QEMU's {@code info migrate} at the end and a
 * byte-for-byte comparison of both sides.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Migrate live RAM from a source to a destination in this process (loopback) and verify it.")
final class DemoCommand implements Callable<Integer> {

    @ParentCommand
    private Livemig livemig;

    @Option(names = "--provider", paramLabel = "soft|verbs|disni", defaultValue = "soft",
            description = "RDMA provider (default: ${DEFAULT-VALUE}).")
    private String provider;

    @Option(names = "--address", paramLabel = "HOST",
            description = "Address both ends listen and connect on (default: 127.0.0.1 for soft, else an IPv4 "
                    + "address of the RDMA device's network interface).")
    private String address;

    @Option(names = "--ram", paramLabel = "SIZE", defaultValue = "1G", converter = ByteSize.Converter.class,
            description = "RAM to migrate (default: ${DEFAULT-VALUE}).")
    private long ram;

    @Option(names = "--pin-all", description = "Register all RAM up front (rdma-pin-all) instead of chunk by chunk.")
    private boolean pinAll;

    @Option(names = "--progress", paramLabel = "bar|lines|none",
            description = "Progress display (default: bar on a terminal, lines otherwise).")
    private String progress;

    @Mixin
    private AuthOptions auth;

    @Override
    public Integer call() throws Exception {
        Terminal io = livemig.io;
        RdmaDeviceFactory devices = EndpointOptions.devices(provider);
        var key = auth.key();
        ProgressPrinter.Mode mode = EndpointOptions.progressMode(progress);
        String host = LocalAddress.choose(provider, address);
        try (RamBlocks blocks = RamLayout.allocate(Map.of(RamLayout.MAIN_RAM, ram), java.util.List.of())) {
            long started = System.nanoTime();
            RamFill.RANDOM.fill(blocks);
            io.out().printf(Locale.ROOT, "source: %s of RAM filled with random data in %d ms%n",
                    ByteSize.format(ram), (System.nanoTime() - started) / 1_000_000);
            // A quarter of the RAM rewritten at 64 MiB/s: enough to need several rounds, little enough to
            // converge within the default 300 ms downtime limit on a slow machine.
            long vmBytes = Math.max(ram / 4, 4096);
            long rate = 64L << 20;
            LoopbackMigration.Result result;
            try (StressWorkload workload = new StressWorkload(blocks, vmBytes, rate)) {
                workload.start();
                io.out().printf(Locale.ROOT, "source: workload rewriting %s at %s/s; migrating over '%s' on %s "
                        + "with x-verify%s%s%n", ByteSize.format(vmBytes), ByteSize.format(rate), provider, host,
                        pinAll ? " and rdma-pin-all" : "", key != null ? " and an auth key" : "");
                result = new LoopbackMigration(devices, pinAll, true, host, key).migrate(blocks, workload,
                        LoopbackMigration.printer(mode, io.out(), source -> {
                            HmpMonitor monitor = new HmpMonitor(MigrationTarget.source(source, () -> { }));
                            return () -> monitor.execute("info migrate");
                        }));
            } catch (MigrationFailedException e) {
                io.err().println("livemig demo: migration " + e.info().status() + ": " + e.info().errorDesc());
                return Livemig.FAILURE;
            }
            try (RamBlocks received = result.incoming().blocks()) {
                io.out().printf(Locale.ROOT, "wall time: %d ms, downtime: %d ms%n", result.wallNanos() / 1_000_000,
                        result.source().downtime().orElse(-1));
                String difference = LoopbackMigration.firstDifference(blocks, received);
                if (difference != null) {
                    io.err().println("livemig demo: memory differs: " + difference);
                    return Livemig.FAILURE;
                }
                io.out().println("memory identical: " + ByteSize.format(received.totalBytes()) + " compared");
                if (!result.incoming().verified()) {
                    io.err().println("livemig demo: verification failed: no x-verify checksums arrived");
                    return Livemig.FAILURE;
                }
                io.out().println("verification passed");
            }
        }
        return 0;
    }
}
