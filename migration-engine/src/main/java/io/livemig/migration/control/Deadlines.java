package io.livemig.migration.control;

import io.livemig.migration.protocol.ProtocolException;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * How long a migration pipeline waits for its peer or its application, without blocking: a step that
 * takes longer than the deadline fails with an {@link IOException} saying what was awaited. A
 * {@link ProtocolException} or {@link IOException} of the step passes through unchanged.
 */
public final class Deadlines {

    private Deadlines() {
    }

    /**
     * Bounds {@code step} by {@code timeout}.
     *
     * @param step the operation
     * @param timeout how long it may take
     * @param timer the clock of the deadline (a virtual-time scheduler in tests)
     * @param what what is awaited, for the message ("the source's control exchange")
     * @param <T> the value type
     * @return the step with its deadline
     */
    public static <T> Mono<T> within(Mono<T> step, Duration timeout, Scheduler timer, String what) {
        return step.timeout(timeout, timer).onErrorMap(TimeoutException.class,
                e -> new IOException(what + " timed out after " + timeout.toMillis() + " ms", e));
    }
}
