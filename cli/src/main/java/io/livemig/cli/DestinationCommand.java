package io.livemig.cli;

import io.livemig.migration.destination.IncomingMigration;
import io.livemig.migration.api.DestinationController;
import io.livemig.migration.api.MigrationFailedException;
import io.livemig.migration.auth.AuthKey;
import io.livemig.migration.monitor.MigrationTarget;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.status.MigrationStatus;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code livemig destination}: QEMU's {@code -incoming rdma:HOST:PORT}. Listens, receives one migration into
 * blocks it allocates as the source announces them, prints the final report and exits: 0 once completed
 * (and verified with {@code --verify}), 1 otherwise.
 */
@Command(name = "destination", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Wait for one incoming migration (QEMU's -incoming), receive it and exit.",
                "Prints 'listening on rdma:HOST:PORT' once it accepts connections; exits 0 once the migration "
                        + "completed, 1 if it failed."})
final class DestinationCommand implements Callable<Integer> {

    @ParentCommand
    private Livemig livemig;

    @Option(names = "--incoming", required = true, paramLabel = "rdma:HOST:PORT", converter = UriConverter.class,
            description = "Where to listen (port 0 picks a free one).")
    private MigrationUri incoming;

    @Option(names = "--ram", paramLabel = "SIZE", defaultValue = "64G", converter = ByteSize.Converter.class,
            description = "Most bytes to allocate for the blocks the source announces (default: ${DEFAULT-VALUE}).")
    private long ram;

    @Option(names = "--ram-file", paramLabel = "NAME=PATH", converter = RamFile.Converter.class,
            description = "Receive RAM block NAME into a shared mapping of PATH (created and sized when missing).")
    private List<RamFile> ramFiles = new ArrayList<>();

    @Option(names = "--mem-prealloc", description = "Commit the announced RAM during the setup instead of on first "
            + "touch (QEMU's -mem-prealloc; MADV_POPULATE_WRITE in parallel).")
    private boolean memPrealloc;

    @Option(names = "--verify", description = "Require the source's x-verify checksums and check every chunk.")
    private boolean verify;

    @Option(names = "--metrics-linger", paramLabel = "DURATION", defaultValue = "0",
            converter = DurationConverter.class,
            description = "With --metrics-port, go on serving the metrics this long after the migration ended (30, "
                    + "30s, 500ms, 2m), so that scrapers see the final counters (default: ${DEFAULT-VALUE}).")
    private java.time.Duration metricsLinger;

    @Mixin
    private EndpointOptions endpoint;

    @Mixin
    private AuthOptions auth;

    @Override
    public Integer call() throws Exception {
        Terminal io = livemig.io;
        // Every option is checked before the monitors open and the port listens.
        Duration timeout = endpoint.timeout();
        RdmaDeviceFactory devices = endpoint.devices();
        ProgressPrinter.Mode progress = endpoint.progressMode();
        RamFile.check(ramFiles);
        AuthKey key = auth.key();
        CompletableFuture<Void> quit = new CompletableFuture<>();
        try (Resources resources = new Resources()) {
            DestinationController controller = resources.add(DestinationController.builder()
                    .devices(devices)
                    .memoryLimit(ram)
                    .blockAllocator(RamLayout.allocator(ramFiles))
                    .preallocate(memPrealloc)
                    .timeout(timeout)
                    .recorder(endpoint.startMetrics(resources, io))
                    .authKey(key)
                    .onRejected((peer, why) -> io.err().println("livemig destination: rejected "
                            + AuthOptions.describe(peer) + ": " + why))
                    .build());
            MigrationTarget target = MigrationTarget.destination(controller, () -> quit.complete(null));
            // The monitors open before the migration port, so that a client that waits for the port finds them.
            endpoint.startReporting(resources, io, progress, "destination", target, () -> quit.complete(null));
            InetSocketAddress bound;
            try {
                bound = controller.listen(incoming);
            } catch (IOException e) {
                // The engine's message is the whole sentence: "cannot listen on rdma:HOST:PORT: REASON".
                throw new CommandFailure(e.getMessage());
            }
            io.out().println("listening on " + new MigrationUri(incoming.host(), bound.getPort()));
            io.out().flush();
            if (key == null) {
                // Said once it listens: a destination that failed to start accepts nobody.
                io.err().println("livemig destination: accepting migrations from anyone (no --auth-key-file)");
            }
            CompletableFuture<IncomingMigration> completion = controller.completion().toFuture();
            CompletableFuture.anyOf(completion, quit).join();
            if (!completion.isDone()) {
                io.err().println("livemig destination: quit before a migration completed");
                return Livemig.FAILURE;
            }
            int status = finish(io, completion);
            endpoint.lingerMetrics(io, metricsLinger, quit);
            return status;
        }
    }

    private int finish(Terminal io, CompletableFuture<IncomingMigration> completion) throws InterruptedException {
        IncomingMigration migration;
        try {
            migration = completion.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            String why = cause instanceof MigrationFailedException failed && failed.info().errorDesc() != null
                    ? failed.info().errorDesc() : String.valueOf(cause.getMessage());
            io.err().println("livemig destination: migration " + MigrationStatus.FAILED + ": " + why);
            return Livemig.FAILURE;
        }
        try (var blocks = migration.blocks()) {
            // The mapping is shared, but msync makes the file hold the memory before we report success.
            RamLayout.flush(blocks);
            io.out().println("received " + blocks.size() + " RAM block(s), " + ByteSize.format(blocks.totalBytes())
                    + ", " + migration.zeroPages() + " zero pages");
            if (migration.verified()) {
                io.out().println("verification passed");
            } else if (verify) {
                io.err().println("livemig destination: verification failed: the source sent no x-verify checksums "
                        + "(set the x-verify capability on the source)");
                return Livemig.FAILURE;
            }
        }
        return 0;
    }
}
