package io.livemig.benchmarks.migration;

import io.livemig.migration.api.DestinationController;
import io.livemig.migration.api.SourceController;
import io.livemig.migration.params.MigrationCapability;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.status.MigrationInfo;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Issue 5's benchmark: migrate N GiB of random RAM between two processes over the soft provider's TCP
 * fabric on loopback, dynamic registration and pin-all, against a raw loopback TCP stream of the same
 * bytes to a second process, measured in the same run. The source runs here; each destination (and the
 * TCP sink) is a child JVM on the same class path. Time counts from {@code migrate} to the destination's
 * completion (it allocates, registers and receives everything in that time).
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar
 * io.livemig.benchmarks.migration.MigrationThroughput [GiB] [repetitions]}; {@code -Dlivemig.bench.modes=pre-faulted}
 * (comma-separated) runs only the named destination modes. With several repetitions it ends with the medians.
 */
public final class MigrationThroughput {

    /** How the destination child gets its RAM: allocated as announced, populated during the setup, or given. */
    private static final List<String> DESTINATION_MODES = List.of("on-demand", "preallocate", "pre-faulted");
    private static final java.util.Map<String, String> DESTINATION_MODE_TITLES = java.util.Map.of(
            "on-demand", "destination allocates on demand",
            "preallocate", "destination preallocates in setup",
            "pre-faulted", "destination RAM pre-faulted before");

    private MigrationThroughput() {
    }

    /**
     * Entry point (also the child processes' entry point: {@code destination} or {@code tcp-sink}).
     *
     * @param args [GiB] [repetitions], or a child role
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("destination")) {
            destination(args[1], Long.parseLong(args[2]));
            return;
        }
        if (args.length > 0 && args[0].equals("tcp-sink")) {
            tcpSink();
            return;
        }
        long size = (long) (Double.parseDouble(args.length > 0 ? args[0] : "2") * (1L << 30));
        int repetitions = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        size -= size % 4096;
        try (RamBlocks source = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", size)))) {
            SplittableRandom random = new SplittableRandom(1);
            MemorySegment memory = source.get(0).memory();
            for (long offset = 0; offset < size; offset += 8) {
                memory.set(ValueLayout.JAVA_LONG_UNALIGNED, offset, random.nextLong());
            }
            System.out.printf("%.2f GiB of random RAM, %d repetition(s), two processes on loopback%n",
                    size / (double) (1L << 30), repetitions);
            // Warm the source's code paths (each destination is a fresh process, as QEMU's is).
            try (RamBlocks warm = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 256L << 20)))) {
                for (boolean pinAll : new boolean[] {false, true}) {
                    migrate(warm, pinAll, "on-demand");
                }
            }
            java.util.Map<String, List<double[]>> results = new java.util.LinkedHashMap<>();
            for (int r = 0; r < repetitions; r++) {
                double tcp = rawTcp(memory);
                double gib = size / (double) (1L << 30);
                for (String destinationMode : modes()) {
                    // Alternate which mode goes first, so neither always meets a warmer machine.
                    double dynamic;
                    double pinAll;
                    if (r % 2 == 0) {
                        dynamic = migrate(source, false, destinationMode);
                        pinAll = migrate(source, true, destinationMode);
                    } else {
                        pinAll = migrate(source, true, destinationMode);
                        dynamic = migrate(source, false, destinationMode);
                    }
                    System.out.printf("%s: raw TCP %.2f GiB/s | dynamic %.2f s %.2f GiB/s (%.2f of raw) | pin-all"
                            + " %.2f s %.2f GiB/s (%.2f of raw) | dynamic/pin-all time %.2f%n",
                            DESTINATION_MODE_TITLES.get(destinationMode), tcp,
                            dynamic, gib / dynamic, gib / dynamic / tcp, pinAll, gib / pinAll, gib / pinAll / tcp,
                            dynamic / pinAll);
                    results.computeIfAbsent(destinationMode, m -> new ArrayList<>())
                            .add(new double[] {gib / dynamic / tcp, gib / pinAll / tcp, dynamic / pinAll});
                }
            }
            if (repetitions > 1) {
                // Medians of the per-repetition ratios: each ratio compares figures of the same repetition, and
                // the median ignores the odd repetition the machine disturbed.
                System.out.printf("medians of %d repetitions (min-max):%n", repetitions);
                results.forEach((destinationMode, rows) -> System.out.printf(
                        "%s: dynamic %s of raw | pin-all %s of raw | dynamic/pin-all time %s%n",
                        DESTINATION_MODE_TITLES.get(destinationMode), median(rows, 0), median(rows, 1),
                        median(rows, 2)));
            }
        }
    }

    /** The median of one column, with its range: {@code 0.93 (0.81-1.02)}. */
    private static String median(List<double[]> rows, int column) {
        double[] values = rows.stream().mapToDouble(row -> row[column]).sorted().toArray();
        int n = values.length;
        double median = n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
        return String.format("%.2f (%.2f-%.2f)", median, values[0], values[n - 1]);
    }

    /** The destination modes to run: all, or those named in {@code -Dlivemig.bench.modes=a,b}. */
    private static List<String> modes() {
        String named = System.getProperty("livemig.bench.modes", "");
        if (named.isBlank()) {
            return DESTINATION_MODES;
        }
        List<String> modes = List.of(named.trim().split("\\s*,\\s*"));
        for (String mode : modes) {
            if (!DESTINATION_MODES.contains(mode)) {
                throw new IllegalArgumentException("unknown destination mode '" + mode + "'; one of "
                        + DESTINATION_MODES);
            }
        }
        return modes;
    }

    private static double migrate(RamBlocks source, boolean pinAll, String destinationMode) throws Exception {
        Duration timeout = Duration.ofMinutes(5);
        Process child = child("destination", destinationMode, Long.toString(source.totalBytes()));
        try {
            BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8));
            int port = Integer.parseInt(protocolLine(lines));
            try (SourceController controller = SourceController.builder(source)
                    .devices(RdmaDeviceFactory.named("soft")).timeout(timeout).build()) {
                controller.setCapability(MigrationCapability.RDMA_PIN_ALL, pinAll);
                controller.setParameters(MigrationParameters.DEFAULTS.withMaxBandwidth(0));
                long start = System.nanoTime();
                MigrationInfo done = controller.migrate(new MigrationUri("127.0.0.1", port)).blockLast(timeout);
                double seconds = (System.nanoTime() - start) / 1e9;
                if (done == null || !"completed".equals(done.status().qmpName())) {
                    throw new IllegalStateException("migration did not complete: " + done);
                }
                String verdict = protocolLine(lines);
                if (!"ok".equals(verdict)) {
                    throw new IllegalStateException("destination: " + verdict);
                }
                return seconds;
            }
        } finally {
            child.destroy();
            child.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** Child: receives one migration, prints the port, then "ok" when it completed. */
    private static void destination(String mode, long size) throws Exception {
        RamBlocks provided = mode.equals("pre-faulted") ? RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", size)))
                : null;
        if (provided != null) {
            // QEMU's -mem-prealloc: the destination's RAM is faulted in before the migration starts.
            MemorySegment memory = provided.get(0).memory();
            for (long offset = 0; offset < size; offset += 4096) {
                memory.set(ValueLayout.JAVA_BYTE, offset, (byte) 0);
            }
        }
        try (DestinationController destination = DestinationController.builder()
                .devices(RdmaDeviceFactory.named("soft")).memoryLimit(Long.MAX_VALUE).blocks(provided)
                .preallocate(mode.equals("preallocate"))
                .timeout(Duration.ofMinutes(5)).build()) {
            InetSocketAddress address = destination.listen(new MigrationUri("127.0.0.1", 0));
            System.out.println(address.getPort());
            System.out.flush();
            try {
                destination.completion().block(Duration.ofMinutes(5)).blocks().close();
                System.out.println("ok");
            } catch (RuntimeException e) {
                System.out.println("failed: " + e.getMessage());
            }
            System.out.flush();
        }
    }

    /** Child: accepts one TCP connection, reads it to the end, prints the byte count. */
    private static void tcpSink() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            System.out.println(server.getLocalPort());
            System.out.flush();
            try (Socket socket = server.accept(); InputStream in = socket.getInputStream()) {
                byte[] buffer = new byte[1 << 20];
                long total = 0;
                int n;
                while ((n = in.read(buffer)) > 0) {
                    total += n;
                }
                System.out.println(total);
            }
        }
    }

    /** Streams the memory to a child process over loopback TCP (1 MiB writes) and returns GiB/s. */
    private static double rawTcp(MemorySegment memory) throws Exception {
        Process child = child("tcp-sink");
        try {
            BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8));
            int port = Integer.parseInt(protocolLine(lines));
            long start = System.nanoTime();
            try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port);
                    OutputStream out = socket.getOutputStream()) {
                byte[] chunk = new byte[1 << 20];
                for (long offset = 0; offset < memory.byteSize(); offset += chunk.length) {
                    int n = (int) Math.min(chunk.length, memory.byteSize() - offset);
                    MemorySegment.copy(memory, ValueLayout.JAVA_BYTE, offset, chunk, 0, n);
                    out.write(chunk, 0, n);
                }
            }
            long total = Long.parseLong(protocolLine(lines));
            double seconds = (System.nanoTime() - start) / 1e9;
            if (total != memory.byteSize()) {
                throw new IllegalStateException("the sink received " + total + " of " + memory.byteSize() + " bytes");
            }
            return total / seconds / (1L << 30);
        } finally {
            child.destroy();
            child.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** The child's next answer, skipping what the JVM itself prints (JFR's "Started recording", say). */
    private static String protocolLine(BufferedReader lines) throws java.io.IOException {
        String line;
        while ((line = lines.readLine()) != null) {
            line = line.trim();
            if (!line.isEmpty() && (Character.isDigit(line.charAt(0)) || line.equals("ok")
                    || line.startsWith("failed"))) {
                return line;
            }
        }
        throw new java.io.EOFException("the child process ended without an answer");
    }

    private static Process child(String... role) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx512m"));
        String childOptions = System.getProperty("livemig.bench.childJavaOptions", "");
        if (!childOptions.isBlank()) {
            command.addAll(List.of(childOptions.trim().split("\\s+")));
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), MigrationThroughput.class.getName()));
        command.addAll(List.of(role));
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }
}
