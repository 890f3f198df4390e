package io.livemig.migration.monitor;

/**
 * A monitor listening on a socket: HMP text or QMP JSON, on {@code unix:PATH} or {@code tcp:HOST:PORT}.
 */
public final class MonitorServer implements AutoCloseable {

    private MonitorServer() {
    }

    /**
     * Serves HMP on an address.
     *
     * @param address {@code unix:PATH} or {@code tcp:HOST:PORT}
     * @param target what the commands act on
     * @return the running server
     * @throws IllegalArgumentException for a malformed address
     * @throws java.io.UncheckedIOException if it cannot listen
     */
    public static MonitorServer hmp(String address, MigrationTarget target) {
        throw new UnsupportedOperationException("not yet");
    }

    /**
     * Serves QMP on an address.
     *
     * @param address {@code unix:PATH} or {@code tcp:HOST:PORT}
     * @param target what the commands act on
     * @return the running server
     * @throws IllegalArgumentException for a malformed address
     * @throws java.io.UncheckedIOException if it cannot listen
     */
    public static MonitorServer qmp(String address, MigrationTarget target) {
        throw new UnsupportedOperationException("not yet");
    }

    /**
     * Where it listens, as {@code unix:PATH} or {@code tcp:HOST:PORT} with the bound port.
     *
     * @return the address
     */
    public String address() {
        throw new UnsupportedOperationException("not yet");
    }

    /** Stops listening and closes every session (idempotent). */
    @Override
    public void close() {
    }
}
