package io.livemig.migration.control;

import io.livemig.migration.protocol.ControlMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;

/**
 * The source's migration byte stream as an {@link OutputStream}: bytes are buffered and, on
 * {@link #flush()}, sent as QEMU FILE messages of at most 32768 bytes, each spending one READY credit
 * (spec section 8.1). Never sends an empty message.
 *
 * <p>Blocking: used by the source's migration thread, never on the event loop. Not thread-safe.
 */
public final class QemuFileOutput extends OutputStream {

    private final SourceControl control;
    private final ByteBufAllocator allocator;
    private final Duration timeout;
    private ByteBuf pending;
    private long bytesSent;

    /**
     * Creates the stream.
     *
     * @param control the source's control endpoint
     * @param allocator where message buffers come from
     * @param timeout how long one message may wait for its READY and its send completion
     */
    public QemuFileOutput(SourceControl control, ByteBufAllocator allocator, Duration timeout) {
        this.control = control;
        this.allocator = allocator;
        this.timeout = timeout;
    }

    @Override
    public void write(int b) throws IOException {
        buffer(1).writeByte(b);
        sendFullMessages();
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        while (len > 0) {
            ByteBuf buffer = buffer(len);
            int n = Math.min(len, ControlMessage.MAX_QEMU_FILE_PAYLOAD - buffer.readableBytes());
            buffer.writeBytes(b, off, n);
            off += n;
            len -= n;
            sendFullMessages();
        }
    }

    /** Sends everything buffered, in messages of at most 32768 bytes, and waits for their completions. */
    @Override
    public void flush() throws IOException {
        if (pending != null && pending.isReadable()) {
            ByteBuf message = pending;
            pending = null;
            send(message);
        }
    }

    /**
     * Stream bytes sent so far (QEMU FILE payload, headers excluded).
     *
     * @return the count
     */
    public long bytesSent() {
        return bytesSent;
    }

    /** Releases unsent bytes; does not flush (a failed migration sends nothing more). */
    @Override
    public void close() {
        if (pending != null) {
            pending.release();
            pending = null;
        }
    }

    private ByteBuf buffer(int wanted) {
        if (pending == null) {
            pending = allocator.buffer(Math.min(Math.max(wanted, 256), ControlMessage.MAX_QEMU_FILE_PAYLOAD),
                    ControlMessage.MAX_QEMU_FILE_PAYLOAD);
        }
        return pending;
    }

    private void sendFullMessages() throws IOException {
        if (pending != null && pending.readableBytes() == ControlMessage.MAX_QEMU_FILE_PAYLOAD) {
            flush();
        }
    }

    private void send(ByteBuf data) throws IOException {
        int size = data.readableBytes();
        Await.await(control.send(ControlMessage.qemuFile(data)), timeout,
                "sending " + size + " bytes of the migration stream");
        bytesSent += size;
    }
}
