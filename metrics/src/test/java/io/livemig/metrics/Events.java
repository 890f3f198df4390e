package io.livemig.metrics;

import io.livemig.migration.observe.MigrationRecorder.Mode;
import io.livemig.migration.observe.MigrationRecorder.Outcome;
import io.livemig.migration.observe.MigrationRecorder.Side;
import io.livemig.migration.protocol.ControlType;
import io.livemig.migration.status.MigrationInfo;
import io.livemig.migration.status.MigrationStatus;
import io.livemig.migration.status.RamInfo;
import io.livemig.transport.rdma.verbs.WcOpcode;
import io.livemig.transport.rdma.verbs.WcStatus;
import java.util.OptionalLong;

/** Drives the recorders as the engine and the transport would, so that tests find every meter. */
final class Events {

    static final long MIB = 1 << 20;

    private Events() {
    }

    /** A snapshot of an active migration with every gauge's field set. */
    static MigrationInfo activeSnapshot() {
        RamInfo ram = new RamInfo(5 * MIB, 3 * MIB, 64 * MIB, 10, 1280, 1280 * 4096, 2500, 800.0, 4, 4096, 20_000,
                5 * MIB, 0, 0);
        return new MigrationInfo(MigrationStatus.ACTIVE, OptionalLong.of(1200), OptionalLong.of(15),
                OptionalLong.of(300), OptionalLong.empty(), ram, OptionalLong.of(30), null);
    }

    /** Every kind of event at least once: both sides, a completed source migration, every lazy tag set used. */
    static void everyEvent(LivemigMetrics metrics) {
        for (Side side : Side.values()) {
            metrics.migrationStarted(side, Mode.DYNAMIC);
            metrics.registration(side, 1, 50_000);
            metrics.unregistered(side, 1);
            metrics.pinnedBytes(side, MIB);
            metrics.pinAllRegistration(side, MIB, 80_000);
            metrics.compressed(side, 4096);
            metrics.controlMessage(side, ControlType.REGISTER_REQUEST, side == Side.SOURCE, 36);
            metrics.controlMessage(side, ControlType.REGISTER_RESULT, side == Side.DESTINATION, 28);
            metrics.qemuFileBytes(side, 100);
        }
        metrics.remoteKeyCacheHit();
        metrics.rdmaWritePosted(MIB);
        metrics.rdmaWriteCompleted(20_000);
        metrics.progress(activeSnapshot());
        metrics.eventLoopRun(false);
        metrics.eventLoopRun(true);
        metrics.workCompletion(WcOpcode.RDMA_WRITE, WcStatus.SUCCESS);
        metrics.workCompletion(WcOpcode.RECV, WcStatus.WR_FLUSH_ERR);
        metrics.sendQueueOutstanding(1);
        metrics.receiveCredits(4);
        metrics.migrationEnded(Side.SOURCE, Outcome.COMPLETED, 2_000_000_000L, 30_000_000L);
    }
}
