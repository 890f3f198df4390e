package io.livemig.cli;

import io.livemig.migration.api.SourceController;
import io.livemig.migration.api.Workload;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code livemig bench}: idle-RAM migrations on loopback per size and registration mode, against a raw
 * loopback TCP stream measured in the same run. Figures are read as ratios to that baseline: machines are
 * noisy, and the soft provider's fabric is TCP itself.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Measure in-process migrations per size and mode against raw loopback TCP.")
final class BenchCommand implements Callable<Integer> {

    private static final int BUFFER = 1 << 20;

    @ParentCommand
    private Livemig livemig;

    @Option(names = "--sizes", paramLabel = "SIZE,...", split = ",", defaultValue = "256M,1G",
            converter = ByteSize.Converter.class, description = "RAM sizes (default: ${DEFAULT-VALUE}).")
    private List<Long> sizes;

    @Option(names = "--modes", paramLabel = "dynamic|pin-all|budget|multifd,...", split = ",",
            defaultValue = "dynamic,pin-all",
            description = "Registration modes (default: ${DEFAULT-VALUE}); budget is dynamic under "
                    + "--max-pinned-bytes; multifd is dynamic over --multifd-channels connections.")
    private List<String> modes;

    @Option(names = "--multifd-channels", paramLabel = "N", defaultValue = "2",
            description = "multifd-channels of the multifd mode, 2 to 255 (default: ${DEFAULT-VALUE}).")
    private int multifdChannels;

    @Option(names = "--max-pinned-bytes", paramLabel = "SIZE", defaultValue = "256M",
            converter = ByteSize.Converter.class,
            description = "max-pinned-bytes of the budget mode (default: ${DEFAULT-VALUE}).")
    private long maxPinnedBytes;

    @Option(names = "--provider", paramLabel = "soft|verbs|disni", defaultValue = "soft",
            description = "RDMA provider (default: ${DEFAULT-VALUE}).")
    private String provider;

    @Option(names = "--address", paramLabel = "HOST",
            description = "Address both ends listen and connect on (default: 127.0.0.1 for soft, else an IPv4 "
                    + "address of the RDMA device's network interface).")
    private String address;

    @Option(names = "--repeat", paramLabel = "N", defaultValue = "3",
            description = "Migrations per size and mode, in alternating order; the median is shown (default: "
                    + "${DEFAULT-VALUE}).")
    private int repeat;

    @Override
    public Integer call() throws Exception {
        if (repeat < 1) {
            throw new UsageError("--repeat takes a positive count, not " + repeat);
        }
        for (String mode : modes) {
            if (!List.of("dynamic", "pin-all", "budget", "multifd").contains(mode)) {
                throw new UsageError("--modes takes dynamic, pin-all, budget and multifd, not '" + mode + "'");
            }
        }
        if (multifdChannels < 2 || multifdChannels > 255) {
            throw new UsageError("--multifd-channels takes 2 to 255, not " + multifdChannels);
        }
        PrintStream out = livemig.io.out();
        RdmaDeviceFactory devices = EndpointOptions.devices(provider);
        String host = LocalAddress.choose(provider, address);
        // At least 1 GiB: a shorter stream measures the connection's start more than its rate.
        long baselineBytes = Math.max(1L << 30, sizes.stream().mapToLong(Long::longValue).max().orElse(0));
        double tcp = rawTcpMiBps(baselineBytes);
        out.printf(Locale.ROOT, "raw loopback TCP: %.1f MiB/s (%s, one stream)%n", tcp, ByteSize.format(baselineBytes));
        out.printf(Locale.ROOT, "%-10s %-8s %12s %12s %10s %10s %8s %14s%n", "size", "mode", "MiB/s", "total ms",
                "setup", "downtime", "vs TCP", "runs (ms)");
        // Not reported: one migration per mode at the largest size first. The first large migration in a
        // process pays for class loading, the JIT and memory the machine has not handed out before; without
        // this the first row alone would carry those costs and the modes would not compare.
        long largest = sizes.stream().mapToLong(Long::longValue).max().orElse(32L << 20);
        for (String mode : modes) {
            measure(devices, host, largest, mode);
        }
        for (long size : sizes) {
            Map<String, List<LoopbackMigration.Result>> runs = new LinkedHashMap<>();
            modes.forEach(mode -> runs.put(mode, new ArrayList<>()));
            for (int r = 0; r < repeat; r++) {
                // Alternate the order, so that no mode always runs on a machine the other just warmed.
                List<String> order = new ArrayList<>(modes);
                if (r % 2 == 1) {
                    Collections.reverse(order);
                }
                for (String mode : order) {
                    runs.get(mode).add(measure(devices, host, size, mode));
                }
            }
            Map<String, Double> rates = new LinkedHashMap<>();
            double extraShare = 0;
            for (String mode : modes) {
                List<LoopbackMigration.Result> results = new ArrayList<>(runs.get(mode));
                results.sort(Comparator.comparingLong(BenchCommand::totalMs));
                LoopbackMigration.Result result = results.get(results.size() / 2);
                long totalMs = totalMs(result);
                double mibps = size / (double) (1 << 20) / Math.max(1, totalMs) * 1000;
                rates.put(mode, mibps);
                if (mode.equals("multifd")) {
                    // multifd-bytes: what the extra channels carried, of the page bytes written.
                    extraShare = result.source().ram().multifdBytes()
                            / (double) Math.max(1, result.source().ram().normalBytes());
                }
                // The fastest and slowest run beside the median: on a shared machine a mode's runs can fall into
                // two groups (a 1 GiB single-channel migration here took 360 ms or 1,300 ms), which a median hides.
                String spread = totalMs(results.getFirst()) + "-" + totalMs(results.getLast());
                out.printf(Locale.ROOT, "%-10s %-8s %12.1f %12d %7d ms %7d ms %7.2fx %14s%n", ByteSize.format(size),
                        mode, mibps, totalMs, result.source().setupTime().orElse(-1),
                        result.source().downtime().orElse(-1), mibps / tcp, spread);
            }
            if (rates.containsKey("multifd") && rates.containsKey("dynamic")) {
                // As many channels as the source opens for this RAM: one per 64 MiB, up to --multifd-channels.
                int used = SourceController.multifdChannels(size, SourceController.DEFAULT_MULTIFD_CHANNEL_BYTES,
                        multifdChannels);
                out.printf(Locale.ROOT, "%-10s multifd (%d %s, 1 per %s of RAM) vs dynamic (1 channel): %.2fx"
                                + " (the extra channels carried %.0f%% of the pages)%n",
                        ByteSize.format(size), used, used == 1 ? "channel" : "channels",
                        ByteSize.format(SourceController.DEFAULT_MULTIFD_CHANNEL_BYTES),
                        rates.get("multifd") / rates.get("dynamic"), extraShare * 100);
            }
        }
        out.printf(Locale.ROOT, "(median of %d run(s) per row)%n", repeat);
        return 0;
    }

    private static long totalMs(LoopbackMigration.Result result) {
        return result.source().totalTime().orElse(result.wallNanos() / 1_000_000);
    }

    /** One migration of {@code size} bytes of random, idle RAM; the destination's blocks are freed. */
    private LoopbackMigration.Result measure(RdmaDeviceFactory devices, String host, long size, String mode)
            throws IOException {
        try (RamBlocks blocks = RamLayout.allocate(Map.of(RamLayout.MAIN_RAM, size), List.of())) {
            RamFill.RANDOM.fill(blocks);
            LoopbackMigration.Result result = new LoopbackMigration(devices, mode.equals("pin-all"), false, host, null,
                    mode.equals("budget") ? maxPinnedBytes : 0, mode.equals("multifd") ? multifdChannels : 1)
                    .migrate(blocks, new Workload() { }, LoopbackMigration.none());
            result.incoming().blocks().close();
            return result;
        }
    }

    /** One loopback TCP stream of {@code bytes} from a direct buffer to a reader that drops it, in MiB/s. */
    static double rawTcpMiBps(long bytes) throws IOException {
        try (ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress("127.0.0.1", 0));
            CompletableFuture<Long> drained = CompletableFuture.supplyAsync(() -> {
                try (SocketChannel in = server.accept()) {
                    ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER);
                    long total = 0;
                    int n;
                    while ((n = in.read(buffer.clear())) >= 0) {
                        total += n;
                    }
                    return total;
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            long started = System.nanoTime();
            try (SocketChannel outbound = SocketChannel.open(server.getLocalAddress())) {
                ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER);
                for (long left = bytes; left > 0; left -= BUFFER) {
                    buffer.clear().limit((int) Math.min(BUFFER, left));
                    while (buffer.hasRemaining()) {
                        outbound.write(buffer);
                    }
                }
            }
            drained.join();
            return bytes / (double) (1 << 20) / ((System.nanoTime() - started) / 1e9);
        }
    }
}
