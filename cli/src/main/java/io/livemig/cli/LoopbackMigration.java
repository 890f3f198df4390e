package io.livemig.cli;

import io.livemig.migration.destination.IncomingMigration;
import io.livemig.migration.api.DestinationController;
import io.livemig.migration.api.SourceController;
import io.livemig.migration.auth.AuthKey;
import io.livemig.migration.api.Workload;
import io.livemig.migration.params.MigrationCapability;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.ram.RamBlock;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.status.MigrationInfo;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Both ends of a migration in one process, on one local address ({@link LocalAddress}): what {@code demo} and
 * {@code bench} run. The source's RAM is the caller's; the destination's blocks are allocated as announced and
 * returned in the result, owned by the caller.
 *
 * @param devices the provider, both ends
 * @param pinAll the rdma-pin-all capability
 * @param verify the x-verify capability
 * @param host the address the destination listens on and the source connects to
 * @param authKey the key both ends share, or {@code null} for none
 * @param maxPinnedBytes the source's {@code max-pinned-bytes}, 0 for no limit
 * @param multifdChannels above 1: the {@code multifd} capability on with that many {@code multifd-channels}
 */
record LoopbackMigration(RdmaDeviceFactory devices, boolean pinAll, boolean verify, String host, AuthKey authKey,
                         long maxPinnedBytes, int multifdChannels) {

    /** One channel. */
    LoopbackMigration(RdmaDeviceFactory devices, boolean pinAll, boolean verify, String host, AuthKey authKey,
            long maxPinnedBytes) {
        this(devices, pinAll, verify, host, authKey, maxPinnedBytes, 1);
    }

    /** Without a key. */
    LoopbackMigration(RdmaDeviceFactory devices, boolean pinAll, boolean verify, String host) {
        this(devices, pinAll, verify, host, null, 0);
    }

    /** With a key, no pinned-memory budget. */
    LoopbackMigration(RdmaDeviceFactory devices, boolean pinAll, boolean verify, String host, AuthKey authKey) {
        this(devices, pinAll, verify, host, authKey, 0);
    }

    /**
     * What a loopback migration produced.
     *
     * @param source the source's final {@code query-migrate}
     * @param incoming the destination's blocks and verdict (the caller closes the blocks)
     * @param wallNanos from {@code migrate} to the destination's completion
     */
    record Result(MigrationInfo source, IncomingMigration incoming, long wallNanos) {
    }

    /** Given the source, what shows its progress while it migrates; closed once the migration ended. */
    interface Progress extends Function<SourceController, AutoCloseable> {
    }

    /**
     * Migrates {@code blocks} with no bandwidth cap.
     *
     * @param blocks the source's RAM
     * @param workload the application writing it
     * @param progress what to show meanwhile
     * @return the result
     * @throws IOException if the destination cannot listen
     * @throws io.livemig.migration.api.MigrationFailedException if the migration fails
     */
    Result migrate(RamBlocks blocks, Workload workload, Progress progress) throws IOException {
        try (DestinationController destination = DestinationController.builder()
                .devices(devices)
                .memoryLimit(blocks.totalBytes())
                .timeout(Duration.ofSeconds(30))
                .authKey(authKey)
                .build();
                SourceController source = SourceController.builder(blocks)
                        .devices(devices)
                        .workload(workload)
                        .timeout(Duration.ofSeconds(30))
                        .authKey(authKey)
                        .build()) {
            source.setCapability(MigrationCapability.RDMA_PIN_ALL, pinAll);
            source.setCapability(MigrationCapability.X_VERIFY, verify);
            // Unlimited, not QEMU's 128 MiB/s default: on loopback the point is to see what the path does.
            source.setParameters(MigrationParameters.DEFAULTS.withMaxBandwidth(0).withMaxPinnedBytes(maxPinnedBytes)
                    .withMultifdChannels(Math.max(1, multifdChannels)));
            source.setCapability(MigrationCapability.MULTIFD, multifdChannels > 1);
            InetSocketAddress bound = destination.listen(new MigrationUri(host, 0));
            var incoming = destination.completion().toFuture();
            long started = System.nanoTime();
            AutoCloseable shown = progress.apply(source);
            try {
                source.migrate(new MigrationUri(host, bound.getPort())).blockLast();
                IncomingMigration received = incoming.join();
                return new Result(source.info(), received, System.nanoTime() - started);
            } finally {
                closeQuietly(shown);
            }
        }
    }

    private static void closeQuietly(AutoCloseable resource) {
        try {
            resource.close();
        } catch (Exception e) {
            System.getLogger(LoopbackMigration.class.getName()).log(System.Logger.Level.WARNING,
                    "closing " + resource + " failed", e);
        }
    }

    /**
     * Compares every block of the two sides byte for byte.
     *
     * @param source the source's RAM
     * @param destination what arrived
     * @return null when equal, else where they first differ
     */
    static String firstDifference(RamBlocks source, RamBlocks destination) {
        for (RamBlock block : source) {
            RamBlock other = destination.byName(block.name()).orElse(null);
            if (other == null) {
                return "RAM block '" + block.name() + "' did not arrive";
            }
            long at = block.memory().mismatch(other.memory());
            if (at >= 0) {
                return "RAM block '" + block.name() + "' differs at offset " + at;
            }
        }
        return null;
    }

    /** No progress shown. */
    static Progress none() {
        return source -> () -> { };
    }

    /**
     * A {@link ProgressPrinter} on the source.
     *
     * @param mode how
     * @param out where
     * @param report the final report
     * @return the progress
     */
    static Progress printer(ProgressPrinter.Mode mode, PrintStream out,
            Function<SourceController, Supplier<String>> report) {
        return source -> new ProgressPrinter(mode, out, "source", source::info, source.statusChanges(),
                report.apply(source));
    }
}
