package io.livemig.cli;

import io.livemig.metrics.LivemigMetrics;
import io.livemig.metrics.PrometheusEndpoint;
import io.livemig.metrics.RuntimeMetrics;
import io.livemig.migration.monitor.HmpMonitor;
import io.livemig.migration.monitor.MigrationTarget;
import io.livemig.migration.monitor.MonitorServer;
import io.livemig.migration.observe.MigrationRecorder;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import io.livemig.transport.rdma.verbs.Verbs;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Option;

/**
 * The options both ends share: the RDMA provider, metrics, monitors, the per-message timeout and how progress
 * is shown. Each {@code start*} method registers what it opens with the command's {@link Resources}.
 */
final class EndpointOptions {

    @Option(names = "--provider", paramLabel = "soft|verbs|disni", defaultValue = "soft",
            description = "RDMA provider: soft (RDMA semantics over TCP, no device needed), verbs (rdma-core), "
                    + "disni (default: ${DEFAULT-VALUE}).")
    String provider;

    @Option(names = "--metrics-port", paramLabel = "PORT",
            description = "Serve Prometheus metrics on http://127.0.0.1:PORT/metrics (see --metrics-address).")
    Integer metricsPort;

    @Option(names = "--metrics-address", paramLabel = "ADDRESS", defaultValue = "127.0.0.1",
            description = "Where --metrics-port listens (default: ${DEFAULT-VALUE}, this host only; 0.0.0.0 for "
                    + "every interface, e.g. for a Prometheus in another container).")
    String metricsAddress;

    /** The endpoint {@link #startMetrics} opened, for {@link #lingerMetrics}; null without {@code --metrics-port}. */
    private PrometheusEndpoint metricsEndpoint;

    @Option(names = "--qmp", paramLabel = "unix:PATH|tcp:HOST:PORT",
            description = "Serve QMP (QEMU's JSON monitor) on a socket.")
    String qmp;

    @Option(names = "--monitor", paramLabel = "stdio|unix:PATH|tcp:HOST:PORT",
            description = "Serve HMP (QEMU's human monitor) on standard input/output or a socket.")
    String monitor;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = "Longest wait for any one message of the peer (default: ${DEFAULT-VALUE}).")
    long timeoutSeconds;

    @Option(names = "--progress", paramLabel = "bar|lines|none",
            description = "Progress display: bar (default on a terminal), lines (default otherwise), none "
                    + "(only the final report). With --monitor stdio: none by default, bar or lines on standard "
                    + "error, no final report.")
    String progress;

    /** The {@code --monitor stdio} reader, until {@link #serveStdio()} starts it. */
    private Thread stdio;

    /**
     * Opens nothing: checks that the provider is available now, so that a missing device is one clear line
     * at start-up rather than a failed migration later.
     *
     * @return the provider's device factory
     * @throws CommandFailure naming the cause of the unavailability
     */
    RdmaDeviceFactory devices() {
        return devices(provider);
    }

    /**
     * {@link #devices()} for a provider name given otherwise.
     *
     * @param provider the provider's name
     * @return its device factory
     * @throws CommandFailure naming the cause of the unavailability
     */
    static RdmaDeviceFactory devices(String provider) {
        try {
            Verbs.provider(provider);
        } catch (VerbsException e) {
            // The provider's own cause is the line to read; the list of every provider only repeats it.
            throw new CommandFailure(e.getCause() != null
                    ? "RDMA provider '" + provider + "' is unavailable: " + e.getCause().getMessage()
                    : e.getMessage());
        }
        return RdmaDeviceFactory.named(provider);
    }

    /**
     * The per-message timeout.
     *
     * @return the timeout
     */
    Duration timeout() {
        if (timeoutSeconds <= 0) {
            throw new UsageError("--timeout must be a positive number of seconds, not " + timeoutSeconds);
        }
        return Duration.ofSeconds(timeoutSeconds);
    }

    /**
     * The progress mode: as given, else a bar on a terminal and lines otherwise; none with {@code --monitor
     * stdio}.
     *
     * @return the mode
     */
    ProgressPrinter.Mode progressMode() {
        if (progress == null && stdioMonitor()) {
            return ProgressPrinter.Mode.NONE; // standard output is the HMP session
        }
        return progressMode(progress);
    }

    static ProgressPrinter.Mode progressMode(String progress) {
        if (progress == null) {
            java.io.Console console = System.console();
            return console != null && console.isTerminal() ? ProgressPrinter.Mode.BAR : ProgressPrinter.Mode.LINES;
        }
        return switch (progress) {
            case "bar" -> ProgressPrinter.Mode.BAR;
            case "lines" -> ProgressPrinter.Mode.LINES;
            case "none" -> ProgressPrinter.Mode.NONE;
            default -> throw new UsageError("--progress takes bar, lines or none, not '" + progress + "'");
        };
    }

    /**
     * Starts the Prometheus endpoint when {@code --metrics-port} is given: livemig's meters and the JVM's and the
     * process's.
     *
     * @param resources closes the endpoint
     * @param io where to say where it listens
     * @return the recorder to hand the controller
     */
    MigrationRecorder startMetrics(Resources resources, Terminal io) {
        if (metricsPort == null) {
            return MigrationRecorder.NOOP;
        }
        LivemigMetrics metrics = new LivemigMetrics();
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        resources.add(registry::close);
        metrics.bindTo(registry);
        resources.add(new RuntimeMetrics()).bindTo(registry);
        try {
            java.net.InetSocketAddress where = new java.net.InetSocketAddress(metricsAddress, metricsPort);
            if (where.isUnresolved()) {
                throw new CommandFailure("cannot serve metrics on " + metricsAddress + ": cannot resolve "
                        + metricsAddress);
            }
            metricsEndpoint = resources.add(PrometheusEndpoint.start(registry, where));
            String host = where.getHostString();
            io.out().println("metrics on http://" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":"
                    + metricsEndpoint.port() + PrometheusEndpoint.PATH);
        } catch (IOException e) {
            throw new CommandFailure("cannot serve metrics on port " + metricsPort + ": " + e.getMessage());
        }
        return metrics;
    }

    /**
     * Goes on serving the metrics for {@code linger} once the migration ended, so that scrapers see its final
     * counters before the process exits: returns when the linger is over, or at once when {@code quit} completes
     * first, when the linger is zero, or when no metrics are served.
     *
     * @param io where to say how long
     * @param linger {@code --metrics-linger}
     * @param quit completed by {@code quit} on a monitor
     */
    void lingerMetrics(Terminal io, Duration linger, CompletableFuture<?> quit) {
        if (metricsEndpoint == null || linger.isZero() || quit.isDone()) {
            return;
        }
        io.out().println("serving metrics for " + DurationConverter.format(linger) + " more");
        io.out().flush();
        CompletableFuture.anyOf(metricsEndpoint.closeAfter(linger), quit).join();
    }

    /**
     * Shows the migration's progress (ending with the {@code info migrate} report) and starts the monitors asked
     * for, as {@link #startMonitors} does. With {@code --monitor stdio} standard output is the HMP session:
     * progress goes to standard error, only when {@code --progress} asks for it, and without the final report
     * ({@code info migrate} in the session shows it).
     *
     * @param resources closes the printer and the servers
     * @param io the terminal
     * @param progress how to show progress ({@link #progressMode()}, checked before anything was allocated)
     * @param side "source" or "destination", in the progress lines
     * @param target what the commands act on, and whose progress is shown
     * @param onQuit what {@code quit} (or the end of standard input) does
     */
    void startReporting(Resources resources, Terminal io, ProgressPrinter.Mode progress, String side,
            MigrationTarget target, Runnable onQuit) {
        if (!stdioMonitor()) {
            HmpMonitor report = new HmpMonitor(target);
            resources.add(new ProgressPrinter(progress, io.out(), side, target::info, target.statusChanges(),
                    () -> report.execute("info migrate")));
        } else if (this.progress != null && progress != ProgressPrinter.Mode.NONE) {
            resources.add(new ProgressPrinter(progress, io.err(), side, target::info, target.statusChanges(), null));
        }
        startMonitors(resources, io, target, onQuit);
    }

    /**
     * Starts the monitors asked for: QMP on {@code --qmp}, HMP on {@code --monitor}. On standard input, the end
     * of input quits, as it does for QEMU's {@code -monitor stdio}; reading starts with {@link #serveStdio()},
     * once the command printed its start-up lines, so that the first prompt follows them.
     *
     * @param resources closes the servers
     * @param io the terminal
     * @param target what the commands act on
     * @param onQuit what {@code quit} (or the end of standard input) does
     */
    void startMonitors(Resources resources, Terminal io, MigrationTarget target, Runnable onQuit) {
        if (qmp != null) {
            MonitorServer server = resources.add(listen("QMP", qmp, () -> MonitorServer.qmp(qmp, target)));
            io.out().println("QMP on " + server.address());
        }
        if (monitor == null) {
            return;
        }
        if (stdioMonitor()) {
            HmpMonitor hmp = new HmpMonitor(target);
            // QEMU's readline echoes what it reads; a terminal echoes typed lines itself, a pipe does not.
            java.io.Console console = System.console();
            boolean echo = console == null || !console.isTerminal();
            stdio = Thread.ofPlatform().name("livemig-monitor-stdio").daemon().unstarted(() -> {
                try {
                    hmp.serve(new BufferedReader(new InputStreamReader(io.in(), StandardCharsets.UTF_8)), io.out(),
                            echo);
                } catch (IOException e) {
                    io.err().println("livemig: reading the monitor from standard input failed: " + e.getMessage());
                } finally {
                    onQuit.run();
                }
            });
        } else {
            MonitorServer server = resources.add(listen("HMP", monitor, () -> MonitorServer.hmp(monitor, target)));
            io.out().println("HMP on " + server.address());
        }
    }

    /** Starts reading {@code --monitor stdio}, if asked for, after the command's last start-up line. */
    void serveStdio() {
        Thread reader = stdio;
        stdio = null;
        if (reader != null) {
            reader.start();
        }
    }

    private boolean stdioMonitor() {
        return "stdio".equals(monitor);
    }

    private static MonitorServer listen(String kind, String address, java.util.function.Supplier<MonitorServer> open) {
        try {
            return open.get();
        } catch (UncheckedIOException e) {
            // The server's message says "cannot listen on ADDRESS" too: the reason alone, said once.
            String reason = java.util.Objects.requireNonNullElse(e.getCause().getMessage(), e.getMessage());
            throw new CommandFailure("cannot serve " + kind + " on " + address + ": " + (reason.length() > 1
                    && Character.isUpperCase(reason.charAt(0)) && Character.isLowerCase(reason.charAt(1))
                    ? Character.toLowerCase(reason.charAt(0)) + reason.substring(1) : reason));
        } catch (IllegalArgumentException e) {
            throw new CommandFailure("cannot serve " + kind + " on " + address + ": " + e.getMessage());
        } catch (UnsupportedOperationException e) {
            throw new CommandFailure(kind + " monitors are not available in this build");
        }
    }
}
