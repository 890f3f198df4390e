package io.livemig.migration.monitor;

/** One client connection of a {@link MonitorServer}: runs on its own thread until the client leaves. */
interface MonitorSession extends Runnable, AutoCloseable {

    /** Ends the session from outside (server close); idempotent, never throws. */
    @Override
    void close();
}
