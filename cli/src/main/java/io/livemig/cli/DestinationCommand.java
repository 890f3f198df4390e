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
import java.nio.file.Files;
import java.nio.file.Path;
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

    @Option(names = "--machine", paramLabel = "NAME",
            description = "The machine the source's configuration section must name (QEMU's -M: none, "
                    + "pc-i440fx-7.2, ...); another fails the migration, as in QEMU.")
    private String machine;

    @Option(names = "--save-device-state", paramLabel = "FILE",
            description = "Write the VM's device state a QEMU source sent after its RAM (and its machine name) to "
                    + "FILE, for source --device-state; fails when the source sent none.")
    private Path saveDeviceState;

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
        checkDeviceStateFile();
        AuthKey key = auth.key();
        CompletableFuture<Void> quit = new CompletableFuture<>();
        Runnable stop = () -> quit.complete(null);
        livemig.termination.onSignal(stop);
        try (Resources resources = new Resources()) {
            // Closing the controller stops an incoming migration and waits for it before its event loops go.
            DestinationController controller = resources.add(DestinationController.builder()
                    .devices(devices)
                    .memoryLimit(ram)
                    .blockAllocator(RamLayout.allocator(ramFiles))
                    .preallocate(memPrealloc)
                    .expectedMachine(machine)
                    .timeout(timeout)
                    .recorder(endpoint.startMetrics(resources, io))
                    .authKey(key)
                    .onRejected((peer, why) -> io.err().println("livemig destination: rejected "
                            + AuthOptions.describe(peer) + ": " + why))
                    .build());
            MigrationTarget target = MigrationTarget.destination(controller, stop);
            // The monitors open before the migration port, so that a client that waits for the port finds them.
            endpoint.startReporting(resources, io, progress, "destination", target, stop);
            InetSocketAddress bound;
            try {
                bound = controller.listen(incoming);
            } catch (IOException e) {
                // The engine's message is the whole sentence: "cannot listen on rdma:HOST:PORT: REASON".
                throw new CommandFailure(e.getMessage());
            }
            if (key == null) {
                // Said once it listens (a destination that failed to start accepts nobody), and before the line
                // that tells scripts it listens, so that whoever waits for that line has this one too.
                io.err().println("livemig destination: accepting migrations from anyone (no --auth-key-file)");
                io.err().flush();
            }
            io.out().println("listening on " + new MigrationUri(incoming.host(), bound.getPort()));
            io.out().flush();
            endpoint.serveStdio();
            CompletableFuture<IncomingMigration> completion = controller.completion().toFuture();
            // Waits for either without throwing: a failed completion is reported by finish.
            CompletableFuture.anyOf(completion, quit).handle((done, error) -> null).join();
            if (!completion.isDone()) {
                io.err().println("livemig destination: " + (livemig.termination.signalled() ? "terminated" : "quit")
                        + " before a migration completed");
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
            String why = !(cause instanceof MigrationFailedException failed) ? Livemig.describe(cause)
                    : failed.info().errorDesc() != null ? failed.info().errorDesc()
                    : Livemig.describe(failed.getCause() != null ? failed.getCause() : failed);
            Livemig.fail(io.err(), "livemig destination: migration " + MigrationStatus.FAILED + ": " + why, cause);
            return Livemig.FAILURE;
        }
        try (var blocks = migration.blocks()) {
            // The mapping is shared, but msync makes the file hold the memory before we report success.
            RamLayout.flush(blocks);
            io.out().println("received " + blocks.size() + " RAM block(s), " + ByteSize.format(blocks.totalBytes())
                    + ", " + migration.zeroPages() + " zero pages");
            if (saveDeviceState != null && !saveDeviceState(io, migration)) {
                return Livemig.FAILURE;
            }
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

    /** {@code --save-device-state}: a file this process can create or replace, checked before listening. */
    private void checkDeviceStateFile() {
        if (saveDeviceState == null) {
            return;
        }
        Path directory = saveDeviceState.toAbsolutePath().getParent();
        if (Files.isDirectory(saveDeviceState)) {
            throw new CommandFailure("--save-device-state " + saveDeviceState + ": is a directory");
        }
        if (directory == null || !Files.isDirectory(directory)) {
            throw new CommandFailure("--save-device-state " + saveDeviceState + ": directory " + directory
                    + " does not exist");
        }
    }

    /** Writes the received device state; false (after one line saying why) when there is none or it fails. */
    private boolean saveDeviceState(Terminal io, IncomingMigration migration) {
        if (migration.deviceState() == null) {
            io.err().println("livemig destination: --save-device-state " + saveDeviceState + ": the source sent no "
                    + "device state (a livemig application sends its own state instead)");
            return false;
        }
        DeviceStateFile file = DeviceStateFile.of(migration.deviceState());
        try {
            file.write(saveDeviceState);
        } catch (IOException e) {
            io.err().println("livemig destination: --save-device-state " + saveDeviceState + ": "
                    + Livemig.describe(e));
            return false;
        }
        io.out().println("device state of machine '" + file.machine() + "': " + migration.deviceState().sections()
                .size() + " device section(s), " + file.tail().length + " bytes, saved to " + saveDeviceState);
        return true;
    }
}
