package io.livemig.benchmarks.migration;

import io.livemig.migration.live.DestinationController;
import io.livemig.migration.live.SourceController;
import io.livemig.migration.params.MigrationCapability;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Migration throughput in one process (source and destination on separate threads, the soft provider's
 * TCP fabric over loopback), against a plain loopback TCP copy of the same bytes measured in the same
 * run. Not the two-process benchmark issue 5 asks for; a first figure.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar
 * io.livemig.benchmarks.migration.MigrationThroughput [GiB]}
 */
public final class MigrationThroughput {

    private MigrationThroughput() {
    }

    /**
     * Entry point.
     *
     * @param args optional size in GiB (default 2)
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        long size = (long) (Double.parseDouble(args.length > 0 ? args[0] : "2") * (1L << 30));
        size -= size % 4096;
        try (RamBlocks source = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", size)))) {
            SplittableRandom random = new SplittableRandom(1);
            MemorySegment memory = source.get(0).memory();
            for (long offset = 0; offset < size; offset += 8) {
                memory.set(ValueLayout.JAVA_LONG_UNALIGNED, offset, random.nextLong());
            }
            double tcp = rawTcp(memory);
            System.out.printf("raw loopback TCP copy: %.2f GiB/s%n", tcp);
            for (boolean pinAll : new boolean[] {false, true}) {
                double seconds = migrate(source, pinAll);
                double rate = size / seconds / (1L << 30);
                System.out.printf("migration %s: %.2f s, %.2f GiB/s, %.2f of raw TCP%n",
                        pinAll ? "pin-all" : "dynamic", seconds, rate, rate / tcp);
            }
        }
    }

    private static double migrate(RamBlocks source, boolean pinAll) throws Exception {
        Duration timeout = Duration.ofMinutes(5);
        RdmaDeviceFactory devices = RdmaDeviceFactory.named("soft");
        try (DestinationController destination = DestinationController.builder().devices(devices).timeout(timeout)
                .memoryLimit(Long.MAX_VALUE).build();
                SourceController controller = SourceController.builder(source).devices(devices).timeout(timeout)
                        .build()) {
            InetSocketAddress address = destination.listen(new MigrationUri("127.0.0.1", 0));
            controller.setCapability(MigrationCapability.RDMA_PIN_ALL, pinAll);
            controller.setParameters(MigrationParameters.DEFAULTS.withMaxBandwidth(0));
            long start = System.nanoTime();
            controller.migrate(new MigrationUri("127.0.0.1", address.getPort())).blockLast(timeout);
            destination.completion().block(timeout).blocks().close();
            return (System.nanoTime() - start) / 1e9;
        }
    }

    /** Streams the memory through a loopback TCP connection (1 MiB writes) and returns GiB/s. */
    private static double rawTcp(MemorySegment memory) throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Long> received = CompletableFuture.supplyAsync(() -> {
                try (Socket socket = server.accept(); InputStream in = socket.getInputStream()) {
                    byte[] buffer = new byte[1 << 20];
                    long total = 0;
                    int n;
                    while ((n = in.read(buffer)) > 0) {
                        total += n;
                    }
                    return total;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            long start = System.nanoTime();
            try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
                    OutputStream out = socket.getOutputStream()) {
                byte[] chunk = new byte[1 << 20];
                for (long offset = 0; offset < memory.byteSize(); offset += chunk.length) {
                    int n = (int) Math.min(chunk.length, memory.byteSize() - offset);
                    MemorySegment.copy(memory, ValueLayout.JAVA_BYTE, offset, chunk, 0, n);
                    out.write(chunk, 0, n);
                }
            }
            long total = received.get(5, TimeUnit.MINUTES);
            return total / ((System.nanoTime() - start) / 1e9) / (1L << 30);
        }
    }
}
