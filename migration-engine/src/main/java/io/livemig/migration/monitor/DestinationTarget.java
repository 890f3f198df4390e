package io.livemig.migration.monitor;

import io.livemig.migration.api.DestinationController;
import io.livemig.migration.params.MigrationCapabilities;
import io.livemig.migration.params.MigrationCapability;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.status.MigrationInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import reactor.core.publisher.Flux;

/**
 * The monitor's view of a {@link DestinationController}. Capabilities and parameters are kept here: QEMU
 * lets a management tool set them on the destination too (and libvirt does), but livemig's destination
 * needs none of them ({@code rdma-pin-all} is negotiated by the source in the RDMA handshake).
 */
final class DestinationTarget implements MigrationTarget {

    /** QEMU's text for {@code migrate} in a process started with {@code -incoming}. */
    static final String WAITING = "Guest is waiting for an incoming migration";

    private final DestinationController controller;
    private final Runnable onQuit;
    private final AtomicReference<MigrationCapabilities> capabilities =
            new AtomicReference<>(MigrationCapabilities.DEFAULTS);
    private final AtomicReference<MigrationParameters> parameters =
            new AtomicReference<>(MigrationParameters.DEFAULTS);
    private volatile InetSocketAddress listening;

    DestinationTarget(DestinationController controller, Runnable onQuit) {
        this.controller = Objects.requireNonNull(controller, "controller");
        this.onQuit = Objects.requireNonNull(onQuit, "onQuit");
    }

    @Override
    public Role role() {
        return Role.DESTINATION;
    }

    @Override
    public MigrationCapabilities capabilities() {
        return capabilities.get();
    }

    @Override
    public void setCapability(MigrationCapability capability, boolean on) {
        capabilities.updateAndGet(c -> c.with(capability, on));
    }

    @Override
    public MigrationParameters parameters() {
        return parameters.get();
    }

    @Override
    public void setParameters(MigrationParameters next) {
        parameters.set(Objects.requireNonNull(next));
    }

    @Override
    public MigrationInfo info() {
        return controller.info();
    }

    @Override
    public Flux<MigrationInfo> statusChanges() {
        return controller.statusChanges();
    }

    @Override
    public void migrate(MigrationUri uri) {
        throw new IllegalStateException(WAITING);
    }

    /** QEMU ignores {@code migrate_cancel} for an incoming migration; so does livemig. */
    @Override
    public void cancel() {
    }

    @Override
    public void incoming(MigrationUri uri) {
        try {
            listening = controller.listen(uri);
        } catch (IOException e) {
            // The message already reads "cannot listen on rdma:HOST:PORT: REASON".
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    @Override
    public Optional<InetSocketAddress> incomingAddress() {
        return info().status().isFinished() ? Optional.empty() : Optional.ofNullable(listening);
    }

    @Override
    public void quit() {
        onQuit.run();
    }
}
