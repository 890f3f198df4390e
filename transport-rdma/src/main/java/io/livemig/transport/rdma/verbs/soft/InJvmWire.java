package io.livemig.transport.rdma.verbs.soft;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.List;

/** One end of an in-JVM link. Frames are handed to the peer through the fabric's delivery queue. */
final class InJvmWire implements Wire {

    private final InJvmFabric fabric;
    private final InetSocketAddress localAddress;
    private final InetSocketAddress remoteAddress;
    private InJvmWire peer;
    /** Guarded by {@code this}. */
    private WireHandler handler;
    /** Guarded by {@code this}: frames that arrived before {@link #start}. */
    private final ArrayDeque<Runnable> early = new ArrayDeque<>();
    /** Set when this end may no longer send or receive. */
    private volatile boolean down;
    /** Guarded by {@code this}: the handler was told. */
    private boolean downReported;

    InJvmWire(InJvmFabric fabric, InetSocketAddress localAddress, InetSocketAddress remoteAddress) {
        this.fabric = fabric;
        this.localAddress = localAddress;
        this.remoteAddress = remoteAddress;
    }

    void pair(InJvmWire other) {
        this.peer = other;
        other.peer = this;
    }

    @Override
    public void start(WireHandler wireHandler) {
        synchronized (this) {
            handler = wireHandler;
        }
        fabric.enqueue(0, () -> {
            Runnable task;
            while ((task = pollEarly()) != null) {
                task.run();
            }
        });
    }

    private synchronized Runnable pollEarly() {
        return early.poll();
    }

    @Override
    public void send(Frame frame, Gather payload) {
        if (down) {
            return;
        }
        long delay = 0;
        boolean corrupt = false;
        if (!(frame instanceof Frame.CmMessage)) {
            FaultInjector.Fault fault = fabric.faults().onPacket(describe(frame));
            switch (fault.kind()) {
                case DROP -> {
                    return;
                }
                case CORRUPT -> corrupt = true;
                case DELAY -> delay = fault.delay().toNanos();
                case RNR -> {
                    if (frame instanceof Frame.RcRequest r && (r.opcode() == io.livemig.transport.rdma.verbs.SendOpcode.SEND
                            || r.opcode() == io.livemig.transport.rdma.verbs.SendOpcode.SEND_WITH_IMM)) {
                        // The peer's responder "has no receive posted": it answers RNR in its place.
                        InJvmWire self = this;
                        fabric.enqueue(0, () -> self.receive(Frame.RcResponse.nak(r.psn(), Frame.NakCode.RNR),
                                Gather.EMPTY, false));
                        return;
                    }
                }
                case DELIVER -> { }
            }
        }
        boolean badChecksum = corrupt;
        InJvmWire target = peer;
        fabric.enqueue(delay, () -> target.receive(frame, payload, badChecksum));
    }

    private FaultInjector.Packet describe(Frame frame) {
        return switch (frame) {
            case Frame.RcRequest r -> new FaultInjector.Packet(localAddress, remoteAddress, r.opcode().name(), true,
                    r.psn(), r.payloadLength());
            case Frame.RcResponse r -> new FaultInjector.Packet(localAddress, remoteAddress, r.kind().name(), false,
                    r.psn(), r.payloadLength());
            case Frame.CmMessage m -> throw new IllegalArgumentException("CM messages are not faulted: " + m.type());
        };
    }

    /**
     * Moves the queue pair of this end to the error state, as a local failure would (the peer is not told: its
     * requests go unanswered until its retries run out).
     */
    void failQueuePair() {
        WireHandler current;
        synchronized (this) {
            current = handler;
        }
        if (current instanceof SoftCmId id && id.queuePair() != null) {
            id.queuePair().moveToError();
        }
    }

    /** Runs on the delivery thread. */
    private void receive(Frame frame, Gather payload, boolean badChecksum) {
        WireHandler current;
        synchronized (this) {
            if (down || peer.down) {
                return;
            }
            current = handler;
            if (current == null) {
                early.add(() -> receive(frame, payload, badChecksum));
                return;
            }
        }
        if (badChecksum) {
            fabric.countCorrupted();
            return; // ICRC mismatch: an HCA discards the packet silently
        }
        if (!payload.pin()) {
            payload.onPinFailure().run();
            return;
        }
        try {
            current.onFrame(frame, new SegmentPayload(payload.segments()));
        } finally {
            payload.unpin();
        }
    }

    @Override
    public void close() {
        // Graceful: the close travels behind the frames already queued.
        fabric.enqueue(0, () -> shutDown("closed by peer"));
    }

    @Override
    public void abort() {
        down = true;
        peer.down = true;
        fabric.enqueueFirst(() -> shutDown("link failed"));
    }

    /** Nothing to release: a payload is pinned only while the delivery thread places it. */
    @Override
    public void retriesExhausted() {
    }

    private void shutDown(String reason) {
        down = true;
        peer.down = true;
        reportDown(reason);
        peer.reportDown(reason);
    }

    private void reportDown(String reason) {
        WireHandler current;
        synchronized (this) {
            if (downReported) {
                return;
            }
            downReported = true;
            current = handler;
            early.clear();
        }
        fabric.unlink(this);
        if (current != null) {
            current.onWireDown(reason);
        }
    }

    @Override
    public InetSocketAddress localAddress() {
        return localAddress;
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return remoteAddress;
    }

    /** The bytes of a gather list, copied piece by piece into the destination. */
    private static final class SegmentPayload implements Payload {

        private final List<MemorySegment> sources;
        private int index;
        private long offset;
        private long remaining;

        SegmentPayload(List<MemorySegment> sources) {
            this.sources = sources;
            for (MemorySegment source : sources) {
                remaining += source.byteSize();
            }
        }

        @Override
        public long remaining() {
            return remaining;
        }

        @Override
        public void placeInto(MemorySegment target) throws IOException {
            long wanted = target.byteSize();
            if (wanted > remaining) {
                throw new IOException("payload has " + remaining + " bytes left, " + wanted + " requested");
            }
            long done = 0;
            while (done < wanted) {
                MemorySegment source = sources.get(index);
                long piece = Math.min(wanted - done, source.byteSize() - offset);
                MemorySegment.copy(source, offset, target, done, piece);
                done += piece;
                offset += piece;
                if (offset == source.byteSize()) {
                    index++;
                    offset = 0;
                }
            }
            remaining -= wanted;
        }
    }
}
