package io.livemig.migration.api;

import io.livemig.migration.status.MigrationInfo;
import io.livemig.migration.status.MigrationStatus;
import java.util.AbstractQueue;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;

/**
 * The buffer between a migration and a slow progress subscriber: every status change is kept, while
 * snapshots that only update figures within one status are conflated (a newer one replaces an older one
 * still waiting). So a subscriber that reads once a minute still sees setup, active, ..., completed, and
 * the buffer never holds more than two snapshots per status.
 *
 * <p>Used as the queue of a unicast sink: offers are serialised by the migration, polls by the sink's
 * drain; every method locks this queue.
 */
final class ProgressQueue extends AbstractQueue<MigrationInfo> {

    private final ArrayDeque<MigrationInfo> waiting = new ArrayDeque<>();
    private MigrationStatus lastOffered;
    /** Whether the newest waiting snapshot is an update (not the first of its status) and may be replaced. */
    private boolean tailReplaceable;

    @Override
    public synchronized boolean offer(MigrationInfo info) {
        boolean statusChange = info.status() != lastOffered;
        lastOffered = info.status();
        if (!statusChange && tailReplaceable && !waiting.isEmpty()) {
            waiting.pollLast();
        }
        waiting.addLast(info);
        tailReplaceable = !statusChange;
        return true;
    }

    @Override
    public synchronized MigrationInfo poll() {
        MigrationInfo head = waiting.pollFirst();
        if (waiting.isEmpty()) {
            tailReplaceable = false;
        }
        return head;
    }

    @Override
    public synchronized MigrationInfo peek() {
        return waiting.peekFirst();
    }

    @Override
    public synchronized int size() {
        return waiting.size();
    }

    @Override
    public synchronized void clear() {
        waiting.clear();
        tailReplaceable = false;
    }

    @Override
    public synchronized Iterator<MigrationInfo> iterator() {
        return List.copyOf(waiting).iterator();
    }
}
