package io.livemig.transport.rdma.channel;

import io.livemig.transport.rdma.observe.TransportRecorder;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import io.livemig.transport.rdma.verbs.ScatterGatherElement;
import io.livemig.transport.rdma.verbs.SendWorkRequest;
import io.livemig.transport.rdma.verbs.WcStatus;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.IoRegistration;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The send side of a connection: turns the flushed messages of the {@link ChannelOutboundBuffer} into work requests
 * and removes each message (releasing it and completing its promise) only when its last work request completes, as
 * io_uring's transport does with its submissions. A {@code ByteBuf} is copied into send-ring slots, one SEND per slot,
 * unless it is a direct buffer whose readable bytes lie in one live region registered on the channel and fit one SEND:
 * that one goes out as a single SEND straight from its own memory, under the region's lkey, and is kept (not
 * released) until that SEND completes. {@link RdmaWrite} and {@link RdmaRead} post one one-sided request each.
 * Reliable connections complete send-queue requests in posting order, so the oldest in-flight entry always belongs to
 * the oldest message. Loop-confined.
 */
final class SendQueue {

    private static final long KIND_SHIFT = 32;
    private static final long LAST = 1L << 40;
    /** A message with nothing to post (an empty buffer): completes when everything before it has. */
    private static final long MARKER = 1L << 41;

    private final IoRegistration registration;
    private final TransportRecorder recorder;
    private final SlotRing ring;
    private final Regions regions;
    private final Credits credits;
    private final int depth;
    private final int maxInline;
    private final int[] freeSlots;
    private int freeCount;
    /** Work requests posted and not completed. */
    private int outstanding;
    /** One entry per posted request or marker, oldest first: kind, slot and whether it ends a message. */
    private final LongQueue inFlight;
    /** Flushed messages, from the head of the outbound buffer, whose every request is posted. */
    private int postedMessages;
    /** Bytes of the next message already posted, when it did not fit at once. */
    private int partialOffset;
    /** The first failed status among the completed requests of the current message. */
    private WcStatus failure;
    private final List<Object> batch = new ArrayList<>();
    /** SENDs posted straight from registered application memory, without a copy. */
    private long registeredSends;

    /** Finds the live region the application registered on the channel that holds a whole byte range. */
    @FunctionalInterface
    interface Regions {
        /** The region holding {@code [address, address + length)}, or {@code null}. */
        MemoryRegion containing(long address, int length);
    }

    SendQueue(IoRegistration registration, TransportRecorder recorder, SlotRing ring, Regions regions,
              Credits credits, int depth, int maxInline) {
        this.registration = registration;
        this.recorder = recorder;
        this.ring = ring;
        this.regions = regions;
        this.credits = credits;
        this.depth = depth;
        this.maxInline = maxInline;
        this.freeSlots = new int[ring.count()];
        for (int i = 0; i < freeSlots.length; i++) {
            freeSlots[i] = freeSlots.length - 1 - i;
        }
        this.freeCount = freeSlots.length;
        this.inFlight = new LongQueue(depth);
    }

    int outstanding() {
        return outstanding;
    }

    /** Visible for testing: how many SENDs went out from registered application memory, without a copy. */
    long registeredSends() {
        return registeredSends;
    }

    /** Whether the outbound buffer holds flushed messages not posted yet. */
    boolean hasUnposted(ChannelOutboundBuffer in) {
        return in != null && in.size() > postedMessages;
    }

    /**
     * Posts flushed messages until they are all posted or the send queue, the send ring or the credits run out.
     *
     * @return {@code true} when stopped for lack of room (the channel is then not writable)
     */
    boolean post(ChannelOutboundBuffer in) throws Exception {
        while (true) {
            batch.clear();
            int[] skip = {postedMessages};
            in.forEachFlushedMessage(msg -> {
                if (skip[0] > 0) {
                    skip[0]--;
                    return true;
                }
                batch.add(msg);
                return batch.size() < 64;
            });
            if (batch.isEmpty()) {
                return false;
            }
            for (Object msg : batch) {
                if (!postOne(msg)) {
                    batch.clear();
                    completeMarkers(in);
                    return true;
                }
            }
            batch.clear();
            completeMarkers(in);
        }
    }

    private boolean postOne(Object msg) {
        if (msg instanceof ByteBuf buf) {
            return postSends(buf);
        }
        if (outstanding >= depth) {
            return false;
        }
        if (msg instanceof RdmaWrite write) {
            if (write.immediate() != null && !credits.canSendData()) {
                return false;
            }
            List<ScatterGatherElement> sge = List.of(ScatterGatherElement.of(write.local(), write.offset(),
                    write.length()));
            int local = WorkRequestId.local(WorkRequestId.WRITE, 0);
            SendWorkRequest request = write.immediate() == null
                    ? SendWorkRequest.rdmaWrite(local, sge, write.remoteAddress(), write.rkey())
                    : SendWorkRequest.rdmaWriteWithImmediate(local, sge, write.remoteAddress(), write.rkey(),
                            write.immediate());
            submit(request, WorkRequestId.WRITE, 0, true);
            if (write.immediate() != null && credits.enabled()) {
                // The peer's receive is consumed; the immediate is the application's, so no grant rides on it.
                credits.spendWithoutGrant();
            }
        } else {
            RdmaRead read = (RdmaRead) msg;
            List<ScatterGatherElement> sge = List.of(ScatterGatherElement.of(read.local(), read.offset(),
                    read.length()));
            submit(SendWorkRequest.rdmaRead(WorkRequestId.local(WorkRequestId.READ, 0), sge, read.remoteAddress(),
                    read.rkey()), WorkRequestId.READ, 0, true);
        }
        postedMessages++;
        return true;
    }

    private boolean postSends(ByteBuf buf) {
        int readable = buf.readableBytes();
        if (readable == 0) {
            inFlight.add(MARKER | LAST);
            postedMessages++;
            return true;
        }
        if (partialOffset == 0 && readable <= ring.slotSize()) {
            // The same one-SEND limit as a slot: the peer's receive buffers are that size.
            long address = registeredAddress(buf, readable);
            MemoryRegion region = address == 0 ? null : regions.containing(address, readable);
            if (region != null) {
                return postRegisteredSend(address, readable, region);
            }
        }
        while (partialOffset < readable) {
            if (outstanding >= depth || freeCount == 0 || !credits.canSendData()) {
                return false;
            }
            int chunk = Math.min(readable - partialOffset, ring.slotSize());
            int slot = freeSlots[--freeCount];
            buf.getBytes(buf.readerIndex() + partialOffset, ring.buffer(slot, chunk));
            int local = WorkRequestId.local(WorkRequestId.SEND, slot);
            List<ScatterGatherElement> sge = List.of(ring.sge(slot, chunk));
            SendWorkRequest request = credits.enabled()
                    ? SendWorkRequest.sendWithImmediate(local, sge, credits.spend())
                    : SendWorkRequest.send(local, sge);
            boolean last = partialOffset + chunk == readable;
            try {
                submit(chunk <= maxInline ? request.inlined() : request, WorkRequestId.SEND, slot, last);
            } catch (RuntimeException e) {
                freeSlots[freeCount++] = slot;
                throw e;
            }
            partialOffset += chunk;
        }
        partialOffset = 0;
        postedMessages++;
        return true;
    }

    /**
     * The native address of a buffer's readable bytes, when they are one contiguous range of native memory that a
     * region may hold; {@code 0} otherwise (heap or composite buffers go through the send ring).
     */
    private static long registeredAddress(ByteBuf buf, int readable) {
        if (!buf.isDirect()) {
            return 0;
        }
        if (buf.hasMemoryAddress()) {
            return buf.memoryAddress() + buf.readerIndex();
        }
        if (buf.nioBufferCount() != 1) {
            return 0;
        }
        // Without Unsafe Netty hides the address; the NIO view of the same bytes still has it.
        return MemorySegment.ofBuffer(buf.nioBuffer(buf.readerIndex(), readable)).address();
    }

    /**
     * One SEND whose single SGE is the buffer's own memory under its region's lkey: nothing is copied, so the message
     * stays in the outbound buffer, unreleased, until this SEND completes. Not inlined, as inlining is a copy. Needs
     * the same send-queue room and peer credit as a SEND from a slot, but no slot.
     */
    private boolean postRegisteredSend(long address, int length, MemoryRegion region) {
        if (outstanding >= depth || !credits.canSendData()) {
            return false;
        }
        int local = WorkRequestId.local(WorkRequestId.SEND_REGISTERED, 0);
        List<ScatterGatherElement> sge = List.of(new ScatterGatherElement(address, length, region.lkey()));
        SendWorkRequest request = credits.enabled()
                ? SendWorkRequest.sendWithImmediate(local, sge, credits.spend())
                : SendWorkRequest.send(local, sge);
        submit(request, WorkRequestId.SEND_REGISTERED, 0, true);
        registeredSends++;
        postedMessages++;
        return true;
    }

    /** Posts a grant-only SEND when one is due and there is room; returns whether it did. */
    boolean postGrantIfDue() {
        if (!credits.grantDue() || outstanding >= depth) {
            return false;
        }
        int local = WorkRequestId.local(WorkRequestId.GRANT, 0);
        submit(SendWorkRequest.sendWithImmediate(local, List.of(), credits.spend()).inlined(), WorkRequestId.GRANT,
                0, false);
        return true;
    }

    private void submit(SendWorkRequest request, int kind, int slot, boolean last) {
        registration.submit(RdmaIoOps.send(request));
        outstanding++;
        recorder.sendQueueOutstanding(1);
        inFlight.add((long) kind << KIND_SHIFT | slot | (last ? LAST : 0));
    }

    /**
     * A send-queue completion: frees its slot and, when it ends a message, removes the message from the outbound
     * buffer (failing its promise with an {@link RdmaException} if any of its requests failed).
     *
     * @param in the outbound buffer, or {@code null} once the channel closed (the messages were failed already)
     */
    void completed(int kind, WcStatus status, ChannelOutboundBuffer in) {
        if (inFlight.isEmpty() || (inFlight.peek() & MARKER) != 0) {
            throw new IllegalStateException("send completion with nothing in flight: kind " + kind);
        }
        long entry = inFlight.poll();
        outstanding--;
        recorder.sendQueueOutstanding(-1);
        int entryKind = (int) (entry >>> KIND_SHIFT) & 0xFF;
        if (entryKind != kind) {
            throw new IllegalStateException("send completions out of order: expected kind " + entryKind + ", got "
                    + kind);
        }
        if (kind == WorkRequestId.SEND) {
            freeSlots[freeCount++] = (int) entry & WorkRequestId.MAX_INDEX;
        }
        if (kind != WorkRequestId.GRANT) {
            if (status != WcStatus.SUCCESS && failure == null) {
                failure = status;
            }
            if ((entry & LAST) != 0) {
                completeMessage(in);
            }
        }
        completeMarkers(in);
    }

    private void completeMarkers(ChannelOutboundBuffer in) {
        while (!inFlight.isEmpty() && (inFlight.peek() & MARKER) != 0) {
            inFlight.poll();
            completeMessage(in);
        }
    }

    private void completeMessage(ChannelOutboundBuffer in) {
        WcStatus failed = failure;
        failure = null;
        postedMessages--;
        if (in == null) {
            return;
        }
        if (failed == null) {
            in.remove();
        } else {
            in.remove(new RdmaException("work request failed", failed));
        }
    }

    @Override
    public String toString() {
        return "SendQueue[outstanding=" + outstanding + "/" + depth + ", freeSlots=" + freeCount + ", posted="
                + postedMessages + ", registeredSends=" + registeredSends + ", " + credits + "]";
    }
}
