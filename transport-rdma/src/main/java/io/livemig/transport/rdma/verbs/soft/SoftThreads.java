package io.livemig.transport.rdma.verbs.soft;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** Starts the provider's threads: platform, daemon, and named {@code livemig-soft-<role>-<n>} for leak checks. */
final class SoftThreads {

    /** Every thread the provider starts has a name with this prefix. */
    static final String PREFIX = "livemig-soft-";

    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    private SoftThreads() {
    }

    /**
     * Starts a daemon thread.
     *
     * @param role what the thread does, e.g. {@code "tcp-rx"}
     * @param task the body
     * @return the started thread
     */
    static Thread start(String role, Runnable task) {
        Thread thread = new Thread(task, PREFIX + role + "-" + SEQUENCE.incrementAndGet());
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    /**
     * A factory for executors.
     *
     * @param role what the threads do
     * @return the factory; its threads are not started
     */
    static ThreadFactory factory(String role) {
        return task -> {
            Thread thread = new Thread(task, PREFIX + role + "-" + SEQUENCE.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
