package io.livemig.migration.stream;

import io.livemig.migration.protocol.ProtocolError;
import io.livemig.migration.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.ArrayDeque;
import java.util.Objects;

/**
 * Decodes the migration byte stream, as bytes arrive, without ever waiting for them: the caller
 * {@link #feed feeds} each QEMU FILE payload and takes the {@link StreamEvent}s that became complete with
 * {@link #next()}. The stream is read as QEMU 7.2's {@code qemu_loadvm_state} and {@code ram_load} read it:
 * the header, the configuration section (the machine name), the RAM section (MEM_SIZE with the block list;
 * HOOK in RDMA mode, page records in exec/TCP mode; EOS), then either livemig's own FULL sections, EOF and
 * VMDESCRIPTION ({@link MigrationStreamWriter}), or a VM's device state kept whole
 * ({@link StreamEvent.DeviceSections}). Every violation is a {@link ProtocolException}; a transport that ends
 * before the end of stream is {@link ProtocolError#TRUNCATED} ({@link #endOfInput()}).
 *
 * <p>Each field is checked as soon as its last byte arrives, in the order QEMU reads them, so the
 * outcome for any input is the same however it is split into pieces, and the same as a pulling reader's
 * ({@link MigrationStreamReader} is this decoder behind a blocking input).
 *
 * <p>Typical use on the destination (spec section 8.2: the reader pulls):
 * <pre>{@code
 * decoder.feed(message.data().retain());   // one QEMU FILE payload; the decoder now owns that reference
 * message.release();
 * for (StreamEvent event; (event = decoder.next()) != null; ) {
 *     handle(event);                       // a RamHook runs the registration loop before anything else
 * }
 * // next() returned null: send READY for more bytes (unless finished())
 * }</pre>
 *
 * <p>Buffers: {@link #feed} takes over one reference of each buffer and composes them without copying;
 * the decoder releases a buffer once it has read all of it, at the end of stream, on a protocol error
 * or at {@link #close()}. Full-section state is copied into its event's array as it arrives. Once
 * finished, failed or closed the decoder holds no buffer, so {@link #close()} matters only for a
 * decoder abandoned mid-stream; it is idempotent.
 *
 * <p>Thread-safe: every method holds the decoder's monitor, so that {@link #close()} (a cancellation)
 * may come from another thread than the one feeding. Events are meant for one consumer.
 */
public final class MigrationStreamDecoder implements AutoCloseable {

    private final StreamParser parser;
    /** Bytes fed and not yet read; created on the first feed, released (null) once no longer needed. */
    private CompositeByteBuf input;
    /** Events decoded by {@link #endOfInput()}'s look-ahead and not yet taken by {@link #next()}. */
    private final ArrayDeque<StreamEvent> decodedAhead = new ArrayDeque<>();
    /** The first protocol error; sticky: every later call reports it again. */
    private ProtocolException failure;
    private boolean endTaken;
    private boolean closed;

    /**
     * Creates a decoder at the start of a stream that accepts any machine.
     *
     * @param maxStateBytes largest livemig section, VMDESCRIPTION or device-state tail accepted (each is held
     *     in memory)
     */
    public MigrationStreamDecoder(long maxStateBytes) {
        this(maxStateBytes, null);
    }

    /**
     * Creates a decoder at the start of a stream.
     *
     * @param maxStateBytes largest livemig section, VMDESCRIPTION or device-state tail accepted (each is held
     *     in memory)
     * @param expectedMachine the machine name the stream's configuration section must carry (QEMU's check of
     *     its own machine type), or null to accept any and a stream without configuration section
     */
    public MigrationStreamDecoder(long maxStateBytes, String expectedMachine) {
        this.parser = new StreamParser(maxStateBytes, expectedMachine);
    }

    /**
     * Appends stream bytes: the readable bytes of {@code bytes}, which may split fields anywhere. Takes
     * over one reference: the decoder releases it (once read, or right away when the buffer is empty or
     * the decoder is finished, failed or closed, in which case the bytes are ignored); retain it first to
     * keep using it. Decodes nothing: call {@link #next()}.
     *
     * @param bytes the next bytes of the stream
     */
    public synchronized void feed(ByteBuf bytes) {
        Objects.requireNonNull(bytes, "bytes");
        if (closed || failure != null || parser.done() || !bytes.isReadable()) {
            // Nothing more is read: not after a failure or close, nor after the end.
            bytes.release();
            return;
        }
        if (input == null) {
            // No limit on components: consolidating would copy, and read components are discarded anyway.
            // Not leak-tracked itself: it allocates nothing, and the buffers it holds are tracked as fed.
            input = new CompositeByteBuf(UnpooledByteBufAllocator.DEFAULT, false, Integer.MAX_VALUE);
        }
        input.addComponent(true, bytes);
    }

    /**
     * Decodes the next complete event from the bytes fed so far.
     *
     * @return the next event in stream order, or null when more bytes are needed (or after {@link StreamEvent.End},
     *     or once closed)
     * @throws ProtocolException for a malformed stream; the decoder then stays failed and throws the same
     *     exception from every later call
     */
    public synchronized StreamEvent next() {
        if (closed) {
            return null;
        }
        StreamEvent event = decodedAhead.poll();
        if (event == null) {
            if (failure != null) {
                throw failure;
            }
            event = decode();
        }
        if (event instanceof StreamEvent.End) {
            endTaken = true;
        }
        return event;
    }

    /**
     * Whether {@link #next()} has returned the end-of-stream event: the stream is complete.
     *
     * @return true after {@link StreamEvent.End}
     */
    public synchronized boolean finished() {
        return endTaken;
    }

    /**
     * Tells the decoder that no more bytes will come (the transport ended). Fine after the end, and right
     * after the EOF marker (a stream without VMDESCRIPTION, which QEMU accepts too: the end event follows);
     * otherwise the stream stopped early. Events still decodable from the bytes fed remain
     * available from {@link #next()}, which then throws the same exception.
     *
     * @throws ProtocolException {@link ProtocolError#TRUNCATED} if the bytes fed end before the end-of-stream
     *     marker or inside a device-state tail (naming its first section), the reason the last VMDESCRIPTION
     *     candidate of a device tail did not fit it, or the protocol error those bytes hold
     */
    public synchronized void endOfInput() {
        if (closed) {
            return;
        }
        if (failure != null) {
            throw failure;
        }
        // Decode what is still buffered, so that the answer does not depend on whether next() was drained.
        while (!parser.done()) {
            StreamEvent event = decode();
            if (event == null) {
                try {
                    event = parser.endOfInput();
                } catch (ProtocolException e) {
                    throw fail(e);
                }
                releaseInput();
            }
            decodedAhead.add(event);
        }
    }

    /**
     * Bytes fed and not yet decoded. After a {@link StreamEvent.RamHook} this is zero when the source kept
     * spec section 8.3's invariant (the HOOK ends its QEMU FILE message).
     *
     * @return the number of buffered bytes
     */
    public synchronized int bufferedBytes() {
        return readable();
    }

    /**
     * The fewest further bytes the decoder needs before {@link #next()} can make progress, when it has
     * returned null: exactly the rest of the field it waits for, so a pulling reader never reads past a
     * HOOK. Zero once finished, failed or closed.
     *
     * @return bytes wanted
     */
    synchronized long bytesNeeded() {
        if (closed || failure != null || parser.done()) {
            return 0;
        }
        return Math.max(0, parser.need(input()) - readable());
    }

    /** Whether the decoder reads a device-state tail, whose length only its end tells: read what is there. */
    synchronized boolean readingDeviceTail() {
        return !closed && failure == null && parser.readingDeviceTail();
    }

    /** Releases the buffered bytes; later calls see a decoder that yields nothing. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        decodedAhead.clear();
        releaseInput();
        parser.clear();
    }

    /** The exception for a stream whose bytes end before the end-of-stream marker. */
    static ProtocolException truncated() {
        return new ProtocolException(ProtocolError.TRUNCATED, "the migration stream ended before its EOF marker");
    }

    /** Reads fields until one completes an event, or until the buffered bytes do not hold the next field. */
    private StreamEvent decode() {
        try {
            while (!parser.done() && parser.canRead(input())) {
                StreamEvent event = parser.read(input());
                if (parser.done()) {
                    // Bytes after the end are not read.
                    releaseInput();
                }
                if (event != null) {
                    return event;
                }
            }
            if (input != null) {
                input.discardReadComponents();
            }
            return null;
        } catch (ProtocolException e) {
            throw fail(e);
        }
    }

    private ProtocolException fail(ProtocolException e) {
        failure = e;
        releaseInput();
        parser.clear();
        return e;
    }

    private void releaseInput() {
        if (input != null) {
            input.release();
            input = null;
        }
    }

    private int readable() {
        return input == null ? 0 : input.readableBytes();
    }

    /** The buffered bytes, an empty buffer before the first feed. */
    private ByteBuf input() {
        return input == null ? Unpooled.EMPTY_BUFFER : input;
    }
}
