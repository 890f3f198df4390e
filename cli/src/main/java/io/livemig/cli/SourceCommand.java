package io.livemig.cli;

import io.livemig.migration.api.MigrationFailedException;
import io.livemig.migration.api.SourceController;
import io.livemig.migration.auth.AuthKey;
import io.livemig.migration.monitor.MigrationTarget;
import io.livemig.migration.params.MigrationCapability;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.ram.DirtyTracking;
import io.livemig.migration.ram.DirtyTrackingMode;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import io.livemig.migration.api.Workload;
import io.livemig.migration.stream.DeviceState;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code livemig source}: an application with RAM blocks and a dirtying workload, migrated at once
 * ({@code --migrate}) or when a monitor says so. After a completed migration it stays paused, as QEMU's
 * {@code postmigrate} state, until {@code quit}, the end of the monitor's input or SIGTERM.
 */
@Command(name = "source", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run RAM under a dirtying workload and migrate it (QEMU's migrate).",
                "With --migrate it migrates at once and exits 0 once completed, 1 if failed; otherwise it waits "
                        + "for the monitor (--qmp, --monitor) and stays paused after a completed migration."})
final class SourceCommand implements Callable<Integer> {

    @ParentCommand
    private Livemig livemig;

    @Option(names = "--ram", paramLabel = "SIZE", converter = ByteSize.Converter.class,
            description = "RAM in one block named pc.ram (QEMU's main RAM).")
    private Long ram;

    @Option(names = "--blocks", paramLabel = "NAME:SIZE,...",
            description = "Several RAM blocks instead of --ram, in this order.")
    private String blocks;

    @Option(names = "--ram-file", paramLabel = "NAME=PATH", converter = RamFile.Converter.class,
            description = "Keep RAM block NAME in a shared mapping of PATH (created and sized when missing).")
    private List<RamFile> ramFiles = new ArrayList<>();

    @Option(names = "--fill", paramLabel = "random|zero|pattern|keep", defaultValue = "random",
            description = "What the RAM holds at start; keep: what each --ram-file holds (default: ${DEFAULT-VALUE}).")
    private String fill;

    @Option(names = "--workload", paramLabel = "none|stress", defaultValue = "none",
            description = "stress: rewrite the first --vm-bytes of RAM page by page, as `stress --vm 1 --vm-keep` "
                    + "(default: ${DEFAULT-VALUE}).")
    private String workload;

    @Option(names = "--vm-bytes", paramLabel = "SIZE", converter = ByteSize.Converter.class,
            description = "Bytes the stress workload rewrites (default: all the RAM).")
    private Long vmBytes;

    @Option(names = "--vm-keep",
            description = "Accepted for stress's command line: the workload always rewrites the same memory.")
    private boolean vmKeep;

    @Option(names = "--vm-rate", paramLabel = "SIZE/s", converter = ByteSize.Converter.class,
            description = "Rewrite at most this many bytes per second (e.g. 32m; default: as fast as possible).")
    private long vmRate;

    @Option(names = "--migrate", paramLabel = "rdma:HOST:PORT", converter = UriConverter.class,
            description = "Migrate at once, then exit.")
    private MigrationUri migrate;

    @Option(names = "--pin-all", description = "Set the rdma-pin-all capability.")
    private boolean pinAll;

    @Option(names = "--verify", description = "Set the x-verify capability (the destination checks every chunk).")
    private boolean verify;

    @Option(names = "--device-state", paramLabel = "FILE",
            description = "Send a VM's device state after the RAM (a file of destination --save-device-state), so "
                    + "that the VM a livemig destination parked goes back into a QEMU destination.")
    private Path deviceState;

    @Option(names = "--machine", paramLabel = "NAME",
            description = "With --device-state: the machine it must have been recorded on (QEMU's -M: none, "
                    + "pc-i440fx-7.2, ...).")
    private String machine;

    @Option(names = "--auto-converge", description = "Set the auto-converge capability.")
    private boolean autoConverge;

    @Option(names = "--max-bandwidth", paramLabel = "SIZE", converter = ByteSize.Converter.class,
            description = "max-bandwidth in bytes/s (0: unlimited; QEMU's default: 128M).")
    private Long maxBandwidth;

    @Option(names = "--downtime-limit", paramLabel = "MS", description = "downtime-limit in ms (default: 300).")
    private Long downtimeLimit;

    @Option(names = "--max-pinned-bytes", paramLabel = "SIZE", converter = ByteSize.Converter.class,
            description = "Keep at most SIZE of RAM registered at the destination and here, unregistering the least "
                    + "recently written chunks (0: no limit, the default; not with --pin-all).")
    private Long maxPinnedBytes;

    @Option(names = "--dirty-tracking", paramLabel = "auto|uffd-wp|soft-dirty|explicit",
            description = "How written pages are found: the kernel's userfaultfd write-protection (uffd-wp), "
                    + "soft-dirty bits, or the workload's own marks (explicit); auto, the default, takes the first "
                    + "that works here. Given, the mode in use and why is printed.")
    private String dirtyTracking;

    @Mixin
    private EndpointOptions endpoint;

    @Mixin
    private AuthOptions auth;

    @Override
    public Integer call() throws Exception {
        Terminal io = livemig.io;
        // Every option is checked before the RAM is allocated and filled, which takes seconds for gigabytes.
        Duration timeout = endpoint.timeout();
        RdmaDeviceFactory devices = endpoint.devices();
        ProgressPrinter.Mode progress = endpoint.progressMode();
        Map<String, Long> layout = layout();
        RamLayout.checkFiles(layout, ramFiles);
        RamFill ramFill = choice("--fill", fill, RamFill.class);
        boolean stress = switch (workload) {
            case "none" -> false;
            case "stress" -> true;
            default -> throw new UsageError("--workload takes none or stress, not '" + workload + "'");
        };
        MigrationParameters parameters = parameters();
        DeviceState parked = parkedDeviceState();
        DirtyTrackingMode tracking = dirtyTracking();
        AuthKey key = auth.key();
        // quit, the end of --monitor stdio, or SIGTERM (registered now: a signal during the fill counts too).
        CountDownLatch quit = new CountDownLatch(1);
        livemig.termination.onSignal(quit::countDown);
        try (Resources resources = new Resources()) {
            RamBlocks ramBlocks = resources.add(allocate(layout));
            long started = System.nanoTime();
            ramFill.fill(ramBlocks);
            if (ramFill == RamFill.KEEP) {
                io.out().printf(Locale.ROOT, "RAM: %s in %d block(s), kept as mapped%n",
                        ByteSize.format(ramBlocks.totalBytes()), ramBlocks.size());
            } else {
                io.out().printf(Locale.ROOT, "RAM: %s in %d block(s), filled %s in %d ms%n",
                        ByteSize.format(ramBlocks.totalBytes()), ramBlocks.size(), fill.toLowerCase(Locale.ROOT),
                        (System.nanoTime() - started) / 1_000_000);
            }
            if (dirtyTracking != null) {
                // Only when asked: the default's output stays what scripts and the monitor tests expect.
                // Every provider but the soft one pins registered memory (DeviceContext.pinsRegisteredMemory).
                io.out().println(DirtyTracking.plan(tracking, !endpoint.provider.equals("soft")));
            }
            // Closed before the RAM (Resources closes in reverse): the writer never touches unmapped memory.
            StressWorkload writer = resources.add(new StressWorkload(ramBlocks,
                    stress ? (vmBytes == null ? ramBlocks.totalBytes() : vmBytes) : 0, vmRate));
            // Closing the controller cancels a running migration and waits for it to terminate before its event
            // loops go: a quit during a migration ends without work submitted to a terminated loop.
            SourceController controller = resources.add(SourceController.builder(ramBlocks)
                    .devices(devices)
                    .workload(parked == null ? writer : new ParkedVm(writer, parked))
                    .timeout(timeout)
                    .recorder(endpoint.startMetrics(resources, io))
                    .authKey(key)
                    .dirtyTracking(tracking)
                    .build());
            controller.setCapability(MigrationCapability.X_VERIFY, verify);
            controller.setCapability(MigrationCapability.RDMA_PIN_ALL, pinAll);
            controller.setCapability(MigrationCapability.AUTO_CONVERGE, autoConverge);
            controller.setParameters(parameters);
            Runnable stop = migrate == null ? quit::countDown : () -> {
                quit.countDown();
                controller.cancel();
            };
            livemig.termination.onSignal(stop);
            MigrationTarget target = MigrationTarget.source(controller, stop);
            endpoint.startReporting(resources, io, progress, "source", target, stop);
            if (stress) {
                writer.start();
                io.out().println("workload: stress rewriting " + ByteSize.format(Math.min(ramBlocks.totalBytes(),
                        vmBytes == null ? Long.MAX_VALUE : vmBytes)) + (vmRate > 0 ? " at " + ByteSize.format(vmRate)
                        + "/s" : " as fast as it can"));
            }
            io.out().flush();
            endpoint.serveStdio();
            if (migrate != null) {
                return migrateNow(io, controller, quit);
            }
            quit.await();
            return 0;
        }
    }

    /**
     * {@code --migrate}: 0 once completed, 1 once failed or cancelled ({@code migrate_cancel}, {@code quit},
     * SIGTERM), after one line saying so.
     */
    private int migrateNow(Terminal io, SourceController controller, CountDownLatch quit) {
        if (quit.getCount() == 0) {
            io.err().println("livemig source: " + (livemig.termination.signalled() ? "terminated" : "quit")
                    + " before migrating");
            return Livemig.FAILURE;
        }
        try {
            controller.migrate(migrate).doOnSubscribe(subscribed -> {
                // A quit between the check above and the start: the stop's cancel found nothing to cancel.
                if (quit.getCount() == 0) {
                    controller.cancel();
                }
            }).blockLast();
            return 0;
        } catch (RuntimeException e) {
            MigrationFailedException failed = e instanceof MigrationFailedException f ? f
                    : e.getCause() instanceof MigrationFailedException f ? f : null;
            if (failed == null) {
                throw e;
            }
            // The progress printer has shown the final report; this is the line for scripts and logs.
            String why = failed.info().errorDesc();
            Livemig.fail(io.err(), "livemig source: migration " + failed.info().status()
                    + (why != null ? ": " + why : ""), failed.getCause());
            return Livemig.FAILURE;
        }
    }

    /** {@code --device-state FILE [--machine NAME]}: read and checked before the RAM is allocated. */
    private DeviceState parkedDeviceState() {
        if (deviceState == null) {
            if (machine != null) {
                throw new UsageError("--machine names the machine of a --device-state FILE; give both");
            }
            return null;
        }
        DeviceState state = DeviceStateFile.load(deviceState);
        if (machine != null && !machine.equals(state.machine())) {
            throw new CommandFailure("--device-state " + deviceState + ": recorded on machine '" + state.machine()
                    + "', not '" + machine + "' (--machine)");
        }
        return state;
    }

    /** The workload, sending a parked VM's device state instead of the application's state. */
    private record ParkedVm(Workload workload, DeviceState state) implements Workload {
        @Override
        public reactor.core.publisher.Mono<Void> pause() {
            return workload.pause();
        }

        @Override
        public reactor.core.publisher.Mono<reactor.core.Disposable> holdWrites() {
            return workload.holdWrites();
        }

        @Override
        public void resume() {
            workload.resume();
        }

        @Override
        public void throttle(int percent) {
            workload.throttle(percent);
        }

        @Override
        public byte[] saveState() {
            return workload.saveState();
        }

        @Override
        public java.util.Optional<DeviceState> deviceState() {
            return java.util.Optional.of(state);
        }
    }

    private Map<String, Long> layout() {
        if (ram == null && blocks == null) {
            throw new UsageError("give the RAM size with --ram SIZE (or --blocks NAME:SIZE,...)");
        }
        try {
            return RamLayout.parse(ram == null ? 0 : ram, blocks);
        } catch (IllegalArgumentException e) {
            throw new UsageError(e.getMessage());
        }
    }

    private RamBlocks allocate(Map<String, Long> layout) {
        try {
            return RamLayout.allocate(layout, ramFiles);
        } catch (IllegalArgumentException e) {
            // A block name or size that cannot be (a size that is not whole pages).
            throw new UsageError(e.getMessage());
        } catch (java.io.UncheckedIOException e) {
            throw new CommandFailure(e.getMessage());
        }
    }

    private DirtyTrackingMode dirtyTracking() {
        if (dirtyTracking == null) {
            return DirtyTrackingMode.defaultMode();
        }
        DirtyTrackingMode mode;
        try {
            mode = DirtyTrackingMode.of(dirtyTracking);
        } catch (IllegalArgumentException e) {
            throw new UsageError("--dirty-tracking takes auto, uffd-wp, soft-dirty or explicit, not '" + dirtyTracking
                    + "'");
        }
        try {
            DirtyTracking.ensureAvailability(mode);
        } catch (UnsupportedOperationException e) {
            throw new CommandFailure("--dirty-tracking " + mode + ": " + e.getMessage());
        }
        return mode;
    }

    private MigrationParameters parameters() {
        MigrationParameters parameters = MigrationParameters.DEFAULTS;
        try {
            if (maxBandwidth != null) {
                parameters = parameters.withMaxBandwidth(maxBandwidth);
            }
            if (downtimeLimit != null) {
                parameters = parameters.withDowntimeLimit(downtimeLimit);
            }
            if (maxPinnedBytes != null) {
                parameters = parameters.withMaxPinnedBytes(maxPinnedBytes);
            }
        } catch (IllegalArgumentException e) {
            throw new UsageError(e.getMessage());
        }
        return parameters;
    }

    static <E extends Enum<E>> E choice(String option, String value, Class<E> type) {
        for (E constant : type.getEnumConstants()) {
            if (constant.name().equalsIgnoreCase(value)) {
                return constant;
            }
        }
        throw new UsageError(option + " takes " + java.util.Arrays.stream(type.getEnumConstants())
                .map(c -> c.name().toLowerCase(Locale.ROOT)).toList() + ", not '" + value + "'");
    }
}
