package io.livemig.migration.control;

import io.livemig.migration.protocol.ProtocolException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import reactor.core.Exceptions;
import reactor.core.publisher.Mono;

/**
 * Blocking waits of the migration threads on the control channel's {@link Mono}s, with one translation
 * of their failures: a {@link ProtocolException} stays what it is (the peer broke the protocol), an
 * {@link IOException} stays an I/O failure, and timeouts, interrupts and anything else become
 * {@link IOException}s that say what was being waited for. Never call it on an event loop.
 */
public final class Await {

    private Await() {
    }

    /**
     * Waits for {@code mono}.
     *
     * @param mono the operation
     * @param timeout how long to wait
     * @param what what is awaited, for messages ("receiving the migration stream")
     * @param <T> the value type
     * @return the value (null if the mono completed empty)
     * @throws IOException if it failed, timed out or was interrupted
     * @throws ProtocolException if the peer broke the protocol
     */
    public static <T> T await(Mono<T> mono, Duration timeout, String what) throws IOException {
        try {
            return mono.block(timeout);
        } catch (RuntimeException e) {
            Throwable cause = Exceptions.unwrap(e);
            if (cause instanceof ProtocolException protocol) {
                throw protocol;
            }
            if (cause instanceof InterruptedException) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException(what + " was interrupted");
            }
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof IllegalStateException && String.valueOf(cause.getMessage())
                    .startsWith("Timeout on blocking read")) {
                throw new IOException(what + " timed out after " + timeout.toMillis() + " ms", cause);
            }
            throw new IOException(what + " failed: " + cause.getMessage(), cause);
        }
    }
}
