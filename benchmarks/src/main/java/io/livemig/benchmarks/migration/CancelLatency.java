package io.livemig.benchmarks.migration;

import io.livemig.migration.api.DestinationController;
import io.livemig.migration.api.SourceController;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.status.MigrationInfo;
import io.livemig.migration.status.MigrationStatus;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * How long {@code migrate_cancel} takes to reach {@code cancelled}, and how many bytes still go after it,
 * at several {@code max-bandwidth} settings: one process, the soft provider's TCP fabric on loopback, a
 * random 1 GiB block. Each run migrates until 16 MiB moved, then cancels and waits for the
 * {@code cancelled} status change. It uses only the controllers' public API, so the same source measures
 * any version of the engine.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar
 * io.livemig.benchmarks.migration.CancelLatency [repetitions] [max-bandwidth ...]} (bytes/s, 0 = unlimited;
 * default 10 runs at 4 MiB/s, 64 MiB/s and unlimited). Prints every run and the medians.
 */
public final class CancelLatency {

    private static final long MIB = 1L << 20;

    private CancelLatency() {
    }

    /**
     * Entry point.
     *
     * @param args [repetitions] [max-bandwidth ...]
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        int repetitions = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        long[] rates = args.length > 1 ? Arrays.stream(args).skip(1).mapToLong(Long::parseLong).toArray()
                : new long[] {4 * MIB, 64 * MIB, 0};
        Duration timeout = Duration.ofSeconds(120);
        try (RamBlocks source = RamBlocks.allocate(List.of(new BlockListEntry("pc.ram", 1024 * MIB)))) {
            SplittableRandom random = new SplittableRandom(1);
            MemorySegment memory = source.get(0).memory();
            for (long offset = 0; offset < memory.byteSize(); offset += 8) {
                memory.set(ValueLayout.JAVA_LONG_UNALIGNED, offset, random.nextLong());
            }
            try (SourceController controller = SourceController.builder(source)
                    .devices(RdmaDeviceFactory.named("soft")).timeout(timeout).build()) {
                for (long rate : rates) {
                    List<Double> millis = new ArrayList<>();
                    List<Long> after = new ArrayList<>();
                    for (int i = 0; i < repetitions; i++) {
                        double[] result = once(controller, rate, timeout);
                        millis.add(result[0]);
                        after.add((long) result[1]);
                        System.out.printf("max-bandwidth %s run %d: cancelled after %.1f ms, %d MiB sent after"
                                + " the cancel%n", rate == 0 ? "unlimited" : rate / MIB + " MiB/s", i + 1, result[0],
                                (long) result[1] / MIB);
                    }
                    millis.sort(Double::compare);
                    after.sort(Long::compare);
                    System.out.printf("max-bandwidth %s: median %.1f ms to cancelled (min %.1f, max %.1f), median %d"
                            + " MiB sent after the cancel%n", rate == 0 ? "unlimited" : rate / MIB + " MiB/s",
                            millis.get(millis.size() / 2), millis.getFirst(), millis.getLast(),
                            after.get(after.size() / 2) / MIB);
                }
            }
        }
    }

    /** One migration cancelled after 16 MiB: milliseconds to {@code cancelled}, bytes sent after the cancel. */
    private static double[] once(SourceController controller, long rate, Duration timeout) throws Exception {
        try (DestinationController destination = DestinationController.builder()
                .devices(RdmaDeviceFactory.named("soft")).memoryLimit(Long.MAX_VALUE).timeout(timeout).build()) {
            InetSocketAddress address = destination.listen(new MigrationUri("127.0.0.1", 0));
            controller.setParameters(MigrationParameters.DEFAULTS.withMaxBandwidth(rate));
            var cancelled = controller.statusChanges().filter(i -> i.status().isFinished()).next().toFuture();
            controller.start(new MigrationUri(address.getHostString(), address.getPort()));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (transferred(controller.info()) < 16 * MIB && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            long before = transferred(controller.info());
            long started = System.nanoTime();
            controller.cancel();
            MigrationInfo end = cancelled.get(timeout.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
            double millis = (System.nanoTime() - started) / 1e6;
            if (end.status() != MigrationStatus.CANCELLED) {
                throw new IllegalStateException("expected cancelled, got " + end.status());
            }
            try {
                destination.completion().block(timeout);
            } catch (RuntimeException expected) {
                // The destination fails with the source's ERROR.
            }
            return new double[] {millis, Math.max(0, transferred(end) - before)};
        }
    }

    private static long transferred(MigrationInfo info) {
        return info.ram() == null ? 0 : info.ram().transferred();
    }
}
