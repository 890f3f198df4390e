package io.livemig.migration.monitor;

import io.livemig.migration.api.DestinationController;
import io.livemig.migration.api.SourceController;
import io.livemig.migration.params.MigrationCapabilities;
import io.livemig.migration.params.MigrationCapability;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.status.MigrationInfo;
import java.net.InetSocketAddress;
import java.util.Optional;
import reactor.core.publisher.Flux;

/**
 * One end of a migration as QEMU's monitor drives it: what HMP and QMP commands act on. Adapters exist
 * for a {@link SourceController} and a {@link DestinationController}; commands that make no sense on one
 * end fail with QEMU-like texts.
 */
public interface MigrationTarget {

    /** Which end this is. */
    enum Role {
        /** The outgoing side ({@code migrate}). */
        SOURCE,
        /** The incoming side ({@code -incoming}, {@code migrate-incoming}). */
        DESTINATION
    }

    /**
     * Which end this is.
     *
     * @return the role
     */
    Role role();

    /**
     * The capabilities ({@code query-migrate-capabilities}).
     *
     * @return the current set
     */
    MigrationCapabilities capabilities();

    /**
     * {@code migrate-set-capabilities} for one capability.
     *
     * @param capability the capability
     * @param on its new state
     * @throws IllegalStateException with QEMU's text while a migration runs
     */
    void setCapability(MigrationCapability capability, boolean on);

    /**
     * The parameters ({@code query-migrate-parameters}).
     *
     * @return the current parameters
     */
    MigrationParameters parameters();

    /**
     * {@code migrate-set-parameters}.
     *
     * @param parameters the new parameters
     */
    void setParameters(MigrationParameters parameters);

    /**
     * {@code query-migrate}.
     *
     * @return the snapshot
     */
    MigrationInfo info();

    /**
     * Status changes, for QMP's {@code MIGRATION} events.
     *
     * @return snapshots at each change
     */
    Flux<MigrationInfo> statusChanges();

    /**
     * {@code migrate URI} (detached: returns once started).
     *
     * @param uri the destination
     * @throws IllegalStateException with QEMU's text when not possible
     */
    void migrate(MigrationUri uri);

    /** {@code migrate_cancel}. */
    void cancel();

    /**
     * {@code migrate-continue STATE}: lets a migration paused in {@code pre-switchover} go on.
     *
     * @param state the state the caller expects
     * @throws IllegalStateException "Migration not in expected state: STATUS"
     */
    default void continueMigration(io.livemig.migration.status.MigrationStatus state) {
        throw new IllegalStateException(io.livemig.migration.api.SourceController.NOT_IN_EXPECTED_STATE
                + io.livemig.migration.status.MigrationStatus.NONE.qmpName());
    }

    /**
     * {@code migrate-incoming URI}.
     *
     * @param uri where to listen
     * @throws IllegalStateException with QEMU's text when not possible
     */
    void incoming(MigrationUri uri);

    /** {@code quit}: asks the process that owns this end to stop. */
    void quit();

    /**
     * Where an incoming migration listens, once {@link #incoming} bound it and until the migration ended
     * (QEMU's {@code socket-address} in {@code query-migrate}; with port 0 this is the port picked).
     *
     * @return the bound address; empty on a source or when not listening
     */
    default Optional<InetSocketAddress> incomingAddress() {
        return Optional.empty();
    }

    /**
     * The source end of a controller.
     *
     * @param controller the controller, not owned
     * @param onQuit what {@code quit} does
     * @return the target
     */
    static MigrationTarget source(SourceController controller, Runnable onQuit) {
        return new SourceTarget(controller, onQuit);
    }

    /**
     * The destination end of a controller.
     *
     * @param controller the controller, not owned
     * @param onQuit what {@code quit} does
     * @return the target
     */
    static MigrationTarget destination(DestinationController controller, Runnable onQuit) {
        return new DestinationTarget(controller, onQuit);
    }
}
