package io.livemig.transport.rdma.channel;

import io.livemig.transport.rdma.observe.TransportRecorder;
import io.livemig.transport.rdma.verbs.ReceiveWorkRequest;
import io.livemig.transport.rdma.verbs.WcOpcode;
import io.livemig.transport.rdma.verbs.WorkCompletion;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.IoRegistration;

/**
 * The receive side of a connection: keeps the receive ring posted, queues completed receives until the channel may
 * deliver them, hands each to the pipeline as a {@link ReceiveSlotBuf}, and posts a slot again only when the
 * application released its buffer and reading is on ({@code autoRead}, or a {@code read()} pending). A slot released
 * while reading is off is parked, so the peer runs out of credits (or, without credits, into receiver-not-ready
 * retries): that is the backpressure. Loop-confined, except {@link ReceiveSlotBuf.Owner#slotReleased} which the
 * channel hops onto the loop.
 */
final class ReceiveQueue {

    private static final long IMMEDIATE = 1L << 63;

    private final IoRegistration registration;
    private final TransportRecorder recorder;
    private final SlotRing ring;
    private final Credits credits;
    /** Completed receives not yet delivered: slot and length, or an immediate and its length. */
    private final LongQueue inbound;
    /** Released slots waiting for reading to be on again. */
    private final LongQueue parked;
    /** Receives posted whose completion (data or flush) has not arrived. */
    private int posted;
    private boolean closed;

    ReceiveQueue(IoRegistration registration, TransportRecorder recorder, SlotRing ring, Credits credits) {
        this.registration = registration;
        this.recorder = recorder;
        this.ring = ring;
        this.credits = credits;
        this.inbound = new LongQueue(ring.count());
        this.parked = new LongQueue(ring.count());
    }

    void postAll() {
        for (int slot = 0; slot < ring.count(); slot++) {
            post(slot);
        }
    }

    private void post(int slot) {
        ReceiveWorkRequest request = ReceiveWorkRequest.of(WorkRequestId.local(WorkRequestId.RECEIVE, slot),
                ring.sge(slot, ring.slotSize()));
        registration.submit(RdmaIoOps.receive(request));
        posted++;
        recorder.receiveCredits(1);
    }

    /** A receive completed, with data or flushed: it is no longer posted. */
    void retired() {
        posted--;
        recorder.receiveCredits(-1);
    }

    /** Receives posted and not completed. */
    int posted() {
        return posted;
    }

    /** A successful receive completion; failed ones (flushes) only retire their slot. */
    void completed(int slot, WorkCompletion wc) {
        if (closed) {
            return;
        }
        boolean immediateWrite = wc.opcode() == WcOpcode.RECV_RDMA_WITH_IMM;
        credits.received(credits.enabled() && !immediateWrite && wc.hasImmediate() ? wc.immediateData() : 0);
        if (immediateWrite) {
            // The bytes went to a region of the application; the receive only carried the immediate.
            inbound.add(IMMEDIATE | (long) wc.byteLength() << 32 | wc.immediateData() & 0xFFFF_FFFFL);
            repost(slot, true);
        } else if (wc.byteLength() == 0 && credits.enabled()) {
            repost(slot, false);
        } else {
            inbound.add((long) slot << 32 | wc.byteLength());
        }
    }

    boolean hasInbound() {
        return !inbound.isEmpty();
    }

    /**
     * Fires {@code channelRead} for every queued receive.
     *
     * @return whether anything was delivered
     */
    boolean deliver(ChannelPipeline pipeline, ByteBufAllocator alloc, ReceiveSlotBuf.Owner owner) {
        boolean delivered = false;
        while (!inbound.isEmpty() && !closed) {
            long entry = inbound.poll();
            delivered = true;
            if ((entry & IMMEDIATE) != 0) {
                pipeline.fireChannelRead(new RdmaImmediate((int) entry, (int) (entry >>> 32) & 0x7FFF_FFFF));
                continue;
            }
            int slot = (int) (entry >>> 32);
            int length = (int) entry;
            ring.retainHold();
            pipeline.fireChannelRead(new ReceiveSlotBuf(alloc, ring.buffer(slot, length), owner, slot));
        }
        return delivered;
    }

    /** The application released a slot's buffer (on the loop). */
    void released(int slot, boolean reading) {
        ring.releaseHold();
        if (closed) {
            return;
        }
        if (reading) {
            repost(slot, true);
        } else {
            parked.add(slot);
        }
    }

    /** Reading is on again: posts the parked slots. */
    void resume() {
        while (!parked.isEmpty() && !closed) {
            repost((int) parked.poll(), true);
        }
    }

    private void repost(int slot, boolean carriedData) {
        post(slot);
        credits.reposted(carriedData);
    }

    /** The connection is going down: nothing is posted or delivered any more. */
    void close() {
        closed = true;
        inbound.clear();
        parked.clear();
    }
}
