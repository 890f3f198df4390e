package io.livemig.migration.api;

import io.livemig.migration.connection.DestinationConnection;
import io.livemig.migration.destination.IncomingMigration;
import io.livemig.migration.destination.MigrationDestination;
import io.livemig.migration.observe.MigrationRecorder;
import io.livemig.migration.status.MigrationInfo;
import io.livemig.migration.status.MigrationStatus;
import io.livemig.migration.status.MigrationTracker;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;
import java.util.function.Consumer;
import java.util.function.Function;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * One incoming migration: it owns its phase, its accepted connection and its progress. The work is the
 * {@link MigrationDestination} pipeline on the connection (block table, registration loop, stream,
 * completion); the connection is closed when it ends, which tells a source that the load finished (as
 * QEMU's destination does).
 */
public final class DestinationMigration {

    /** The lifecycle of this object; QEMU's status is the tracker's. */
    enum Phase {
        /** Accepted; the pipeline not yet started. */
        CREATED,
        /** Receiving. */
        RUNNING,
        /** Completed or failed; nothing is held any more. */
        TERMINATED
    }

    /** The {@code error-desc} when the connection closed before the end of the stream without an ERROR. */
    static final String SOURCE_CLOSED = "the source closed the connection before the end of the migration";

    private static final AtomicReferenceFieldUpdater<DestinationMigration, Phase> PHASE =
            AtomicReferenceFieldUpdater.newUpdater(DestinationMigration.class, Phase.class, "phase");

    private final DestinationConnection connection;
    private final MigrationRecorder recorder;
    private final Consumer<MigrationInfo> statusListener;
    private final MigrationTracker tracker = MigrationTracker.incoming();
    private final Sinks.Many<MigrationInfo> progress =
            Sinks.many().unicast().onBackpressureBuffer(new ProgressQueue());
    private final Object emitLock = new Object();
    /** Emits the reason when the owner stops this migration before its end ({@link #abort}). */
    private final Sinks.One<Throwable> abort = Sinks.one();
    private volatile Phase phase = Phase.CREATED;
    private long startedNanos;

    DestinationMigration(DestinationConnection connection, MigrationRecorder recorder,
            Consumer<MigrationInfo> statusListener) {
        this.connection = connection;
        this.recorder = recorder;
        this.statusListener = statusListener;
    }

    /**
     * Runs the migration that {@code destinationFor} builds for the connection.
     *
     * @param destinationFor the pipeline for this connection
     * @return the received RAM and state; fails with {@link MigrationFailedException}
     */
    Mono<IncomingMigration> run(Function<DestinationConnection, MigrationDestination> destinationFor) {
        return Mono.defer(() -> {
            if (!PHASE.compareAndSet(this, Phase.CREATED, Phase.RUNNING)) {
                return Mono.error(new IllegalStateException("a migration runs once"));
            }
            tracker.start(0);
            startedNanos = System.nanoTime();
            recorder.migrationStarted(MigrationRecorder.Side.DESTINATION, connection.capabilities().pinAll()
                    ? MigrationRecorder.Mode.PIN_ALL : MigrationRecorder.Mode.DYNAMIC);
            publish();
            return Mono.usingWhen(Mono.just(connection),
                    c -> destinationFor.apply(c).abortWhen(abort.asMono()).run(this::status),
                    DestinationConnection::closing,
                    (c, error) -> c.closing(),
                    DestinationConnection::closing)
                    .doOnNext(migration -> end(MigrationStatus.COMPLETED, null))
                    .onErrorMap(error -> {
                        end(MigrationStatus.FAILED, error);
                        return new MigrationFailedException(tracker.snapshot(), error);
                    });
        });
    }

    /**
     * Stops this migration before its end, as a failure with {@code reason}: ERROR goes to the source and what
     * it held is released; {@link #run}'s Mono then fails. Safe from any thread; nothing after the end.
     *
     * @param reason why, the migration's {@code error-desc}
     */
    void abort(Throwable reason) {
        abort.tryEmitValue(reason);
    }

    /**
     * The progress of this migration: every status change, never dropped; completes after
     * {@code completed}, fails with {@link MigrationFailedException} after {@code failed}. One subscriber.
     *
     * @return the progress
     */
    public Flux<MigrationInfo> progress() {
        return progress.asFlux();
    }

    /**
     * A {@code query-migrate} snapshot.
     *
     * @return the snapshot
     */
    public MigrationInfo info() {
        return tracker.snapshot();
    }

    private void status(MigrationStatus status) {
        tracker.status(status);
        publish();
    }

    private void end(MigrationStatus status, Throwable cause) {
        PHASE.set(this, Phase.TERMINATED);
        if (status == MigrationStatus.COMPLETED) {
            tracker.status(status);
        } else {
            tracker.finish(status, errorDesc(cause));
        }
        recorder.migrationEnded(MigrationRecorder.Side.DESTINATION, status == MigrationStatus.COMPLETED
                ? MigrationRecorder.Outcome.COMPLETED : MigrationRecorder.Outcome.FAILED,
                System.nanoTime() - startedNanos, -1);
        publish();
        synchronized (emitLock) {
            if (cause == null) {
                progress.tryEmitComplete();
            } else {
                progress.tryEmitError(new MigrationFailedException(tracker.snapshot(), cause));
            }
        }
    }

    /**
     * The {@code error-desc} of a failure. A connection that closed under the load fails it with a
     * {@link ClosedChannelException}, which has no message: it says that the source went away (it was killed,
     * or its host or link failed: a source that fails or is cancelled sends ERROR first).
     */
    static String errorDesc(Throwable cause) {
        if (cause.getMessage() != null) {
            return cause.getMessage();
        }
        if (cause instanceof ClosedChannelException) {
            return SOURCE_CLOSED;
        }
        return cause.getClass().getSimpleName();
    }

    private void publish() {
        MigrationInfo info = tracker.snapshot();
        synchronized (emitLock) {
            progress.tryEmitNext(info);
        }
        statusListener.accept(info);
    }
}
