package io.livemig.transport.rdma.unix;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The open-to-closed lifecycle of a file descriptor that several threads use: counts the native calls in flight so
 * the descriptor is released only after the last of them has returned.
 *
 * <p>Closing an fd while another thread is about to pass its number to {@code write} or {@code epoll_wait} is the
 * classic fd-reuse bug: the kernel hands the number to the next {@code open}, and the late call lands on an
 * unrelated file. Every call therefore brackets its use with {@link #acquire()} and {@link #release()};
 * {@link #close()} only marks the state, and whoever brings the count to zero on a closed state (the closer, or the
 * last call to return) runs the release action, exactly once. Once closed, {@link #acquire()} refuses, so the count
 * can only fall.
 */
final class FdLifecycle {

    /** Set once by {@link #close()}; the low 31 bits count the calls in flight. */
    private static final int CLOSED = Integer.MIN_VALUE;

    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(FdLifecycle.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** {@link #CLOSED} bit plus the number of calls in flight; changed only by CAS or atomic add. */
    private volatile int state;

    private final Runnable releaseAction;

    /**
     * Creates an open lifecycle.
     *
     * @param releaseAction frees the fd and its memory; runs once, on the thread that closes or on the thread whose
     *                      call was the last in flight, and must not throw
     */
    FdLifecycle(Runnable releaseAction) {
        this.releaseAction = releaseAction;
    }

    /**
     * Registers a call about to use the fd.
     *
     * @return true if the fd is open and stays open until the matching {@link #release()}; false if closed
     */
    boolean acquire() {
        for (;;) {
            int current = state;
            if ((current & CLOSED) != 0) {
                return false;
            }
            if (STATE.compareAndSet(this, current, current + 1)) {
                return true;
            }
        }
    }

    /** Ends a call registered by a successful {@link #acquire()}; frees the fd if it was the last on a closed fd. */
    void release() {
        int after = (int) STATE.getAndAdd(this, -1) - 1;
        if (after == CLOSED) {
            releaseAction.run();
        }
    }

    /**
     * Marks the fd closed; frees it now if no call is in flight, else leaves that to the last one.
     *
     * @return true for the call that closed, false if already closed
     */
    boolean close() {
        for (;;) {
            int current = state;
            if ((current & CLOSED) != 0) {
                return false;
            }
            if (STATE.compareAndSet(this, current, current | CLOSED)) {
                if (current == 0) {
                    releaseAction.run();
                }
                return true;
            }
        }
    }

    /**
     * Whether {@link #close()} has not been called yet.
     *
     * @return true while open
     */
    boolean isOpen() {
        return (state & CLOSED) == 0;
    }
}
