package io.livemig.migration.observe;

import io.livemig.migration.protocol.ControlType;
import io.livemig.migration.status.MigrationInfo;
import io.livemig.transport.rdma.observe.TransportRecorder;

/**
 * What the migration engine reports as it works, for metrics. Every method has a no-op default and
 * {@link #NOOP} records nothing, so embedders without Micrometer pay one interface call per event. The
 * {@code metrics} module implements it with Micrometer meters.
 *
 * <p>Called from migration worker threads and from event loops: implementations must be thread-safe
 * and must not block. The write path ({@link #rdmaWritePosted}, {@link #rdmaWriteCompleted}) is hot:
 * keep it to an add on a counter.
 */
public interface MigrationRecorder {

    /** Records nothing. */
    MigrationRecorder NOOP = new MigrationRecorder() { };

    /** Which end of the migration reports. */
    enum Side {
        /** The sending end. */
        SOURCE,
        /** The receiving end. */
        DESTINATION;

        /**
         * The tag value.
         *
         * @return {@code source} or {@code destination}
         */
        public String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** How RAM is registered. */
    enum Mode {
        /** Chunk by chunk, on demand (QEMU's default). */
        DYNAMIC,
        /** Whole blocks up front ({@code rdma-pin-all}). */
        PIN_ALL;

        /**
         * The tag value.
         *
         * @return {@code dynamic} or {@code pin-all}
         */
        public String tag() {
            return this == DYNAMIC ? "dynamic" : "pin-all";
        }
    }

    /** How a migration ended. */
    enum Outcome {
        /** Completed. */
        COMPLETED,
        /** Failed. */
        FAILED,
        /** Cancelled. */
        CANCELLED;

        /**
         * The tag value.
         *
         * @return lower case
         */
        public String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * Where the RDMA event loops that the engine creates for this migration report
     * ({@code RdmaIoHandler.newFactory(spinPolls, recorder.transportRecorder())}), so that one recorder given to the
     * engine covers the transport too. Loops the embedder creates and hands to the engine are the embedder's to
     * configure.
     *
     * @return the transport's recorder; {@link TransportRecorder#NOOP} unless overridden
     */
    default TransportRecorder transportRecorder() {
        return TransportRecorder.NOOP;
    }

    /**
     * A migration started on this side.
     *
     * @param side which end
     * @param mode registration mode
     */
    default void migrationStarted(Side side, Mode mode) {
    }

    /**
     * A migration ended.
     *
     * @param side which end
     * @param outcome how
     * @param totalNanos from start to end
     * @param downtimeNanos the pause (source, completed only; else -1)
     */
    default void migrationEnded(Side side, Outcome outcome, long totalNanos, long downtimeNanos) {
    }

    /**
     * A fresh progress snapshot (after each round and each status change; source side).
     *
     * @param info the snapshot
     */
    default void progress(MigrationInfo info) {
    }

    /**
     * One REGISTER REQUEST answered (source: request sent to result received; destination: request
     * received to result sent).
     *
     * @param side which end
     * @param chunks chunks registered by it (its repeat)
     * @param nanos round trip or handling time
     */
    default void registration(Side side, int chunks, long nanos) {
    }

    /**
     * A write found its chunk's remote key in the cache (source, dynamic mode).
     */
    default void remoteKeyCacheHit() {
    }

    /**
     * Chunks deregistered (UNREGISTER, or released at the end).
     *
     * @param side which end
     * @param chunks how many
     */
    default void unregistered(Side side, int chunks) {
    }

    /**
     * Registered (pinned) bytes changed on this side.
     *
     * @param side which end
     * @param deltaBytes added (positive) or released (negative)
     */
    default void pinnedBytes(Side side, long deltaBytes) {
    }

    /**
     * A whole block registered in pin-all mode.
     *
     * @param side which end
     * @param bytes the block's length
     * @param nanos how long registration took
     */
    default void pinAllRegistration(Side side, long bytes, long nanos) {
    }

    /**
     * An RDMA WRITE was posted (source).
     *
     * @param bytes its length
     */
    default void rdmaWritePosted(long bytes) {
    }

    /**
     * An RDMA WRITE completed (source).
     *
     * @param latencyNanos post to completion
     */
    default void rdmaWriteCompleted(long latencyNanos) {
    }

    /**
     * A range was sent (source) or applied (destination) as COMPRESS.
     *
     * @param side which end
     * @param bytes the zero range's length
     */
    default void compressed(Side side, long bytes) {
    }

    /**
     * A control message was sent or received.
     *
     * @param side which end reports
     * @param type its type
     * @param sent true when sent, false when received
     * @param bytes header plus payload
     */
    default void controlMessage(Side side, ControlType type, boolean sent, long bytes) {
    }

    /**
     * QEMU FILE stream bytes carried (payload only).
     *
     * @param side which end
     * @param bytes stream bytes
     */
    default void qemuFileBytes(Side side, long bytes) {
    }
}
