package io.livemig.migration.control;

import io.livemig.migration.protocol.ControlMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ReferenceCounted;
import java.io.DataOutputStream;
import java.util.function.UnaryOperator;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The source's migration byte stream (spec section 8.1) without blocking: the stream writer appends to
 * an in-memory buffer through {@link #stream()}, and {@link #flush()} sends what was written as a
 * {@code Flux<ByteBuf>} of QEMU FILE payloads of at most 32768 bytes, each one an element of the control
 * channel's Flux of SENDs and so sent only against a READY credit. Never sends an empty message.
 *
 * <p>The buffer grows with what is written between flushes (the stream header and block list, one RAM
 * part's markers, the non-live state), never with page data, which goes by RDMA WRITE. Not thread-safe:
 * one migration pipeline writes and flushes, one step at a time.
 */
public final class QemuFileOutput implements AutoCloseable {

    private final SourceControl control;
    private final ByteBufAllocator allocator;
    private ByteBuf pending;
    private final DataOutputStream stream = new DataOutputStream(new java.io.OutputStream() {
        @Override
        public void write(int b) {
            buffer().writeByte(b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            buffer().writeBytes(b, off, len);
        }
    });
    private long bytesSent;

    /**
     * Creates the stream.
     *
     * @param control the source's control endpoint
     * @param allocator where the buffer comes from
     */
    public QemuFileOutput(SourceControl control, ByteBufAllocator allocator) {
        this.control = control;
        this.allocator = allocator;
    }

    /**
     * Where the stream writer writes; writing never blocks and sends nothing.
     *
     * @return the stream
     */
    public DataOutputStream stream() {
        return stream;
    }

    /**
     * Takes what was written so far as QEMU FILE payloads: a lazy Flux of buffers of at most 32768 bytes,
     * each owned by whoever receives it. Cancelling it releases the rest.
     *
     * @return the payloads, empty when nothing was written
     */
    public Flux<ByteBuf> messages() {
        return Flux.defer(() -> {
            ByteBuf taken = pending;
            pending = null;
            if (taken == null || !taken.isReadable()) {
                if (taken != null) {
                    taken.release();
                }
                return Flux.empty();
            }
            return Flux.<ByteBuf>generate(sink -> {
                if (taken.isReadable()) {
                    sink.next(taken.readRetainedSlice(Math.min(taken.readableBytes(),
                            ControlMessage.MAX_QEMU_FILE_PAYLOAD)));
                } else {
                    sink.complete();
                }
            }).doFinally(signal -> taken.release());
        });
    }

    /**
     * Sends everything written so far, one QEMU FILE message per READY.
     *
     * @return completes when the last message's SEND completed
     */
    public Mono<Void> flush() {
        return flush(UnaryOperator.identity());
    }

    /**
     * Sends everything written so far, one QEMU FILE message per READY, each send shaped by {@code eachSend}
     * (a deadline on its READY, for instance).
     *
     * @param eachSend applied to each message's send
     * @return completes when the last message's SEND completed
     */
    public Mono<Void> flush(UnaryOperator<Mono<Void>> eachSend) {
        return messages()
                .concatMap(data -> {
                    int size = data.readableBytes();
                    return eachSend.apply(control.send(ControlMessage.qemuFile(data)))
                            .doOnSuccess(v -> bytesSent += size);
                }, 1)
                .doOnDiscard(ByteBuf.class, ReferenceCounted::release)
                .then();
    }

    /**
     * Stream bytes sent so far (QEMU FILE payload, headers excluded).
     *
     * @return the count
     */
    public long bytesSent() {
        return bytesSent;
    }

    /** Releases unsent bytes; does not flush (a failed migration sends nothing more). Idempotent. */
    @Override
    public void close() {
        if (pending != null) {
            pending.release();
            pending = null;
        }
    }

    private ByteBuf buffer() {
        if (pending == null) {
            pending = allocator.buffer(4096);
        }
        return pending;
    }
}
