package io.livemig.cli;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * What one command opened, closed in reverse order of opening (idempotent); a close that fails is reported
 * and the rest still close.
 */
final class Resources implements AutoCloseable {

    private final Deque<AutoCloseable> opened = new ArrayDeque<>();

    /**
     * Takes ownership of a resource.
     *
     * @param resource the resource
     * @param <T> its type
     * @return the resource
     */
    synchronized <T extends AutoCloseable> T add(T resource) {
        opened.push(resource);
        return resource;
    }

    @Override
    public void close() {
        while (true) {
            AutoCloseable next;
            synchronized (this) {
                next = opened.poll();
            }
            if (next == null) {
                return;
            }
            try {
                next.close();
            } catch (Exception e) {
                System.getLogger(Resources.class.getName()).log(System.Logger.Level.WARNING,
                        "closing " + next + " failed", e);
            }
        }
    }
}
