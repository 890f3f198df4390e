package io.livemig.migration.monitor;

import io.livemig.migration.api.SourceController;
import io.livemig.migration.params.MigrationCapabilities;
import io.livemig.migration.params.MigrationCapability;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.status.MigrationInfo;
import java.util.Objects;
import reactor.core.publisher.Flux;

/** The monitor's view of a {@link SourceController}: every command delegates to it. */
final class SourceTarget implements MigrationTarget {

    /** QEMU's text for {@code migrate-incoming} in a process not started with {@code -incoming}. */
    static final String NOT_INCOMING = "'-incoming' was not specified on the command line";

    private final SourceController controller;
    private final Runnable onQuit;

    SourceTarget(SourceController controller, Runnable onQuit) {
        this.controller = Objects.requireNonNull(controller, "controller");
        this.onQuit = Objects.requireNonNull(onQuit, "onQuit");
    }

    @Override
    public Role role() {
        return Role.SOURCE;
    }

    @Override
    public MigrationCapabilities capabilities() {
        return controller.capabilities();
    }

    @Override
    public void setCapability(MigrationCapability capability, boolean on) {
        controller.setCapability(capability, on);
    }

    @Override
    public MigrationParameters parameters() {
        return controller.parameters();
    }

    @Override
    public void setParameters(MigrationParameters parameters) {
        controller.setParameters(parameters);
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
        controller.start(uri);
    }

    @Override
    public void cancel() {
        controller.cancel();
    }

    @Override
    public void continueMigration(io.livemig.migration.status.MigrationStatus state) {
        controller.continueMigration(state);
    }

    @Override
    public void incoming(MigrationUri uri) {
        throw new IllegalStateException(NOT_INCOMING);
    }

    @Override
    public void quit() {
        onQuit.run();
    }
}
