package io.livemig.transport.rdma.verbs.conformance;

import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.CmEventChannel;
import io.livemig.transport.rdma.verbs.CmId;
import io.livemig.transport.rdma.verbs.CompletionChannel;
import io.livemig.transport.rdma.verbs.CompletionQueue;
import io.livemig.transport.rdma.verbs.DeviceContext;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import io.livemig.transport.rdma.verbs.ProtectionDomain;
import io.livemig.transport.rdma.verbs.QpInitAttributes;
import io.livemig.transport.rdma.verbs.QueuePair;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.VerbsTimeoutException;
import io.livemig.transport.rdma.verbs.WorkCompletion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * One end of a test connection: a device with a protection domain, one completion channel, separate send and
 * receive completion queues (as QEMU uses them) and an rdma_cm event channel.
 */
public final class Side implements AutoCloseable {

    /** How long a test waits for anything before it fails instead of hanging. */
    public static final Duration WAIT = Duration.ofSeconds(10);

    private final DeviceContext device;
    private final ProtectionDomain pd;
    private final CompletionChannel completionChannel;
    private final CompletionQueue sendCq;
    private final CompletionQueue receiveCq;
    private final CmEventChannel events;
    private final WorkCompletion[] slots = WorkCompletion.array(16);
    CmId id;
    QueuePair qp;

    Side(DeviceContext device) throws VerbsException {
        boolean success = false;
        try {
            this.device = device;
            this.pd = device.allocateProtectionDomain();
            this.completionChannel = device.createCompletionChannel();
            this.sendCq = device.createCompletionQueue(20_000, completionChannel);
            this.receiveCq = device.createCompletionQueue(20_000, completionChannel);
            this.events = device.createEventChannel();
            success = true;
        } finally {
            if (!success) {
                device.close();
            }
        }
    }

    /** The device. */
    public DeviceContext device() {
        return device;
    }

    /** The protection domain. */
    public ProtectionDomain pd() {
        return pd;
    }

    /** The completion channel both queues notify. */
    public CompletionChannel completionChannel() {
        return completionChannel;
    }

    /** The send completion queue. */
    public CompletionQueue sendCq() {
        return sendCq;
    }

    /** The receive completion queue. */
    public CompletionQueue receiveCq() {
        return receiveCq;
    }

    /** The rdma_cm event channel. */
    public CmEventChannel events() {
        return events;
    }

    /** The connected identifier. */
    public CmId id() {
        return id;
    }

    /** The connected queue pair. */
    public QueuePair qp() {
        return qp;
    }

    /**
     * Queue-pair attributes with this side's queues.
     *
     * @param sendDepth the send queue depth
     * @param receiveDepth the receive queue depth
     * @return the attributes
     */
    public QpInitAttributes attributes(int sendDepth, int receiveDepth) {
        return QpInitAttributes.of(sendCq, receiveCq, sendDepth, receiveDepth);
    }

    /**
     * Allocates page-aligned memory in the arena and registers it.
     *
     * @param arena the arena owning the memory (closed by the test after the device)
     * @param size the size
     * @param access the access flags
     * @return the region
     * @throws VerbsException when registration fails
     */
    public MemoryRegion register(Arena arena, long size, Set<AccessFlag> access) throws VerbsException {
        MemorySegment memory = arena.allocate(size, 4096);
        return pd.register(memory, access);
    }

    /**
     * Waits until {@code count} completions arrived on the queue, using the completion channel the way an event
     * loop would: poll, arm, poll again, wait on the channel.
     *
     * @param cq the queue
     * @param count how many
     * @return the completions in arrival order
     * @throws VerbsException when the wait times out
     */
    public List<Wc> await(CompletionQueue cq, int count) throws VerbsException {
        List<Wc> completions = new ArrayList<>(count);
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (completions.size() < count) {
            if (drain(cq, completions, count) || completions.size() >= count) {
                continue;
            }
            cq.requestNotification(false);
            if (drain(cq, completions, count)) {
                continue; // a completion slipped in between the empty poll and the arm
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new VerbsTimeoutException("waited " + WAIT + " for " + count + " completions, got "
                        + completions.size() + ": " + completions);
            }
            try {
                completionChannel.awaitEvent(Duration.ofNanos(Math.min(left, Duration.ofMillis(200).toNanos())));
            } catch (VerbsTimeoutException e) {
                // re-poll; the other queue of this channel may have taken the event
            }
        }
        return completions;
    }

    /**
     * Polls what is there now without waiting.
     *
     * @param cq the queue
     * @return the completions
     * @throws VerbsException when polling fails
     */
    public List<Wc> pollNow(CompletionQueue cq) throws VerbsException {
        List<Wc> completions = new ArrayList<>();
        drain(cq, completions, Integer.MAX_VALUE);
        return completions;
    }

    private boolean drain(CompletionQueue cq, List<Wc> into, int limit) throws VerbsException {
        boolean any = false;
        while (into.size() < limit) {
            int polled = cq.poll(java.util.Arrays.copyOf(slots, Math.min(slots.length, limit - into.size())));
            if (polled == 0) {
                return any;
            }
            for (int i = 0; i < polled; i++) {
                into.add(Wc.of(slots[i]));
            }
            any = true;
        }
        return any;
    }

    @Override
    public void close() {
        device.close();
    }
}
