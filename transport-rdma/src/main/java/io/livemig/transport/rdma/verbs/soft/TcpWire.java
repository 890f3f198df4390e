package io.livemig.transport.rdma.verbs.soft;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One TCP connection of the TCP fabric, with a writer thread (so posting never blocks on the socket) and a reader
 * thread. Payloads move between the socket and registered memory directly: gathering writes from slices of the
 * source regions, reads straight into the slice of the destination region.
 */
final class TcpWire implements Wire {

    /** The largest buffer handed to one read or write; a ByteBuffer view of a segment cannot exceed 2 GiB. */
    private static final long MAX_BUFFER = 1L << 30;
    private static final Object CLOSE = new Object();

    private final SocketChannel channel;
    private final InetSocketAddress localAddress;
    private final InetSocketAddress remoteAddress;
    private final LinkedBlockingQueue<Object> outbound = new LinkedBlockingQueue<>();
    private final AtomicBoolean downReported = new AtomicBoolean();
    private volatile boolean closing;
    private volatile WireHandler handler;

    TcpWire(SocketChannel channel) throws IOException {
        this.channel = channel;
        this.localAddress = (InetSocketAddress) channel.getLocalAddress();
        this.remoteAddress = (InetSocketAddress) channel.getRemoteAddress();
        SoftThreads.start("tcp-tx", this::writeLoop);
    }

    @Override
    public void start(WireHandler wireHandler) {
        this.handler = wireHandler;
        SoftThreads.start("tcp-rx", this::readLoop);
    }

    @Override
    public void send(Frame frame, Gather payload) {
        if (!closing) {
            outbound.add(new Outbound(frame, payload));
        }
    }

    @Override
    public void close() {
        if (!closing) {
            closing = true;
            outbound.add(CLOSE);
        }
    }

    @Override
    public void abort() {
        closing = true;
        outbound.clear();
        outbound.add(CLOSE);
        closeChannel();
    }

    /**
     * The requester gave up: abort. Over a link cut without a reset (a dropped route, a firewall), the writer thread
     * sits in a socket write that TCP keeps retrying for many minutes, holding the pin of the region it gathers from;
     * that region's deregistration would wait as long, and the application could never release memory whose
     * requests already completed in error. Closing the socket ends that write; the reader then reports the wire
     * down, as a real port reports a dead path.
     */
    @Override
    public void retriesExhausted() {
        abort();
    }

    @Override
    public InetSocketAddress localAddress() {
        return localAddress;
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return remoteAddress;
    }

    private void writeLoop() {
        ByteBuffer header = ByteBuffer.allocateDirect(FrameCodec.HEADER_BYTES);
        try {
            while (true) {
                Object next = outbound.take();
                if (next == CLOSE) {
                    break;
                }
                Outbound item = (Outbound) next;
                write(item.frame(), item.payload(), header);
            }
        } catch (IOException | InterruptedException e) {
            // The reader sees the broken connection and reports it.
        } finally {
            closeChannel();
            outbound.clear();
        }
    }

    private void write(Frame frame, Gather payload, ByteBuffer header) throws IOException {
        if (!payload.pin()) {
            payload.onPinFailure().run();
            return;
        }
        try {
            FrameCodec.encode(frame, header);
            List<ByteBuffer> buffers = new ArrayList<>(1 + payload.segments().size());
            buffers.add(header);
            if (frame instanceof Frame.CmMessage message) {
                buffers.add(ByteBuffer.wrap(message.privateData()));
            } else {
                for (MemorySegment segment : payload.segments()) {
                    for (long offset = 0; offset < segment.byteSize(); offset += MAX_BUFFER) {
                        long length = Math.min(MAX_BUFFER, segment.byteSize() - offset);
                        buffers.add(segment.asSlice(offset, length).asByteBuffer());
                    }
                }
            }
            ByteBuffer[] array = buffers.toArray(ByteBuffer[]::new);
            long total = 0;
            for (ByteBuffer buffer : array) {
                total += buffer.remaining();
            }
            while (total > 0) {
                total -= channel.write(array);
            }
        } finally {
            payload.unpin();
        }
    }

    private void readLoop() {
        ByteBuffer header = ByteBuffer.allocate(FrameCodec.HEADER_BYTES);
        ByteBuffer scratch = ByteBuffer.allocateDirect(64 * 1024);
        String reason = "connection closed by peer";
        try {
            while (true) {
                header.clear();
                if (!readFully(header)) {
                    break;
                }
                FrameCodec.check(header); // before any allocation: lengths from a stranger are not trusted
                int payloadLength = FrameCodec.payloadLength(header);
                byte[] privateData = null;
                if (FrameCodec.isCm(header)) {
                    ByteBuffer data = ByteBuffer.allocate(payloadLength);
                    if (payloadLength > 0 && !readFully(data)) {
                        // Nothing of the private data came: still a frame cut short, not a clean close.
                        throw new EOFException("connection closed inside a frame");
                    }
                    privateData = data.array();
                }
                Frame frame = FrameCodec.decode(header, privateData);
                SocketPayload payload = new SocketPayload(channel,
                        privateData == null ? Integer.toUnsignedLong(payloadLength) : 0);
                handler.onFrame(frame, payload);
                payload.discardRemaining(scratch);
            }
        } catch (IOException e) {
            reason = closing ? "closed" : "connection failed: " + e.getMessage();
        } finally {
            closeChannel();
            // The connection is dead: stop the writer too, or it would wait for frames forever.
            closing = true;
            outbound.add(CLOSE);
            if (downReported.compareAndSet(false, true)) {
                handler.onWireDown(reason);
            }
        }
    }

    private boolean readFully(ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) {
                if (buffer.position() == 0) {
                    return false;
                }
                throw new EOFException("connection closed inside a frame");
            }
        }
        return true;
    }

    private void closeChannel() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // Nothing more to do; the reader reports the wire down.
        }
    }

    private record Outbound(Frame frame, Gather payload) {
    }

    /** The payload of the frame being read: bytes still in the socket. */
    private static final class SocketPayload implements Payload {

        private final SocketChannel channel;
        private long remaining;

        SocketPayload(SocketChannel channel, long remaining) {
            this.channel = channel;
            this.remaining = remaining;
        }

        @Override
        public long remaining() {
            return remaining;
        }

        @Override
        public void placeInto(MemorySegment target) throws IOException {
            if (target.byteSize() > remaining) {
                throw new IOException("payload has " + remaining + " bytes left, " + target.byteSize() + " requested");
            }
            // The single copy: the kernel writes the socket's bytes into the destination region.
            for (long offset = 0; offset < target.byteSize(); offset += MAX_BUFFER) {
                ByteBuffer buffer = target.asSlice(offset, Math.min(MAX_BUFFER, target.byteSize() - offset))
                        .asByteBuffer();
                while (buffer.hasRemaining()) {
                    if (channel.read(buffer) < 0) {
                        throw new EOFException("connection closed inside a payload");
                    }
                }
            }
            remaining -= target.byteSize();
        }

        void discardRemaining(ByteBuffer scratch) throws IOException {
            while (remaining > 0) {
                scratch.clear().limit((int) Math.min(scratch.capacity(), remaining));
                int read = channel.read(scratch);
                if (read < 0) {
                    throw new EOFException("connection closed inside a payload");
                }
                remaining -= read;
            }
        }
    }
}
