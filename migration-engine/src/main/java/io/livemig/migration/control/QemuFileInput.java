package io.livemig.migration.control;

import io.livemig.migration.protocol.ControlMessage;
import io.livemig.migration.protocol.ControlType;
import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;

/**
 * The destination's migration byte stream as an {@link InputStream} that pulls (spec section 8.2):
 * it holds the last QEMU FILE payload, and only when that is used up does it send READY ("give me
 * more") and wait for the next QEMU FILE message. A read returns what is held, possibly fewer bytes
 * than asked for, and never blocks for more once it has something.
 *
 * <p>Blocking: used by the destination's load thread, never on the event loop. Not thread-safe.
 */
public final class QemuFileInput extends InputStream {

    private final DestinationControl control;
    private final Duration timeout;
    private ControlMessage held;
    private long bytesReceived;

    /**
     * Creates the stream.
     *
     * @param control the destination's control endpoint
     * @param timeout how long to wait for the source's next message
     */
    public QemuFileInput(DestinationControl control, Duration timeout) {
        this.control = control;
        this.timeout = timeout;
    }

    @Override
    public int read() throws IOException {
        ByteBuf data = data();
        return data.readUnsignedByte();
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return 0;
        }
        ByteBuf data = data();
        int n = Math.min(len, data.readableBytes());
        data.readBytes(b, off, n);
        return n;
    }

    @Override
    public int available() {
        return held == null ? 0 : held.data().readableBytes();
    }

    /**
     * Whether every byte received has been read: true when the registration loop may take over the
     * receive slot (after a HOOK, spec section 8.3).
     *
     * @return true if nothing is held
     */
    public boolean isDrained() {
        return available() == 0;
    }

    /**
     * Stream bytes received so far.
     *
     * @return the count
     */
    public long bytesReceived() {
        return bytesReceived;
    }

    /** Releases a held message. */
    @Override
    public void close() {
        if (held != null) {
            held.release();
            held = null;
        }
    }

    private ByteBuf data() throws IOException {
        if (held != null && held.data().isReadable()) {
            return held.data();
        }
        close();
        held = Await.await(control.receive(ControlType.QEMU_FILE), timeout, "receiving the migration stream");
        if (held == null) {
            throw new IOException("receiving the migration stream failed: the control channel completed empty");
        }
        bytesReceived += held.data().readableBytes();
        return held.data();
    }
}
