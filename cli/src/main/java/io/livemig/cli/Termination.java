package io.livemig.cli;

import java.io.PrintStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * SIGTERM (and Ctrl-C's SIGINT) handled as {@code quit}: a command that registered a quit action with
 * {@link #onSignal} has it run by the JVM's shutdown hook, finishes as it would after {@code quit} (a running
 * migration cancelled and terminated before the event loops go), and the process exits with the status the
 * command returned, as QEMU does on SIGTERM. A command that registered nothing exits as the JVM does on a
 * signal (143 for SIGTERM, 130 for SIGINT).
 *
 * <p>Why a halt: once a signal started the JVM's shutdown, {@code System.exit} blocks and the status is the
 * signal's; only {@link Runtime#halt} from the hook, after the command finished, gives the command's status.
 */
final class Termination {

    /** How long the hook waits for the command to finish after a signal before it gives up. */
    static final long GRACE_SECONDS = 20;

    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    /** What a signal does; null until a command registers it. Guarded by {@code this}. */
    private Runnable action;
    /** Whether a signal came; guarded by {@code this}. */
    private boolean signalled;

    private Termination() {
    }

    /**
     * A termination no signal reaches: for commands run in a test's JVM, which must not exit.
     *
     * @return the termination
     */
    static Termination none() {
        return new Termination();
    }

    /**
     * Installs the shutdown hook that turns SIGTERM and SIGINT into the registered quit action.
     *
     * @param err where to say that the command did not finish in time
     * @return the termination
     */
    static Termination install(PrintStream err) {
        Termination termination = new Termination();
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("livemig-shutdown").unstarted(
                () -> termination.shutdown(err)));
        return termination;
    }

    /**
     * Registers what a signal does (the command's {@code quit}); runs it at once if a signal already came.
     *
     * @param quit the action, run once at most
     */
    void onSignal(Runnable quit) {
        boolean now;
        synchronized (this) {
            action = quit;
            now = signalled;
        }
        if (now) {
            quit.run();
        }
    }

    /**
     * Whether a signal came: commands say "terminated" rather than "quit".
     *
     * @return true after SIGTERM or SIGINT
     */
    synchronized boolean signalled() {
        return signalled;
    }

    /**
     * Ends the process with the command's status: {@code System.exit}, or, when a signal's shutdown is under
     * way, hands the status to the hook, which halts with it.
     *
     * @param status the command's exit status
     */
    void exit(int status) {
        exit.complete(status);
        // During a signal's shutdown this blocks until the hook halts the JVM with the status.
        System.exit(status);
    }

    private void shutdown(PrintStream err) {
        Runnable quit;
        synchronized (this) {
            // Done: an ordinary System.exit, or a signal that came after the command returned; the halt below
            // keeps the command's status in both cases.
            signalled = !exit.isDone();
            quit = signalled ? action : null;
        }
        if (signalled() && quit == null) {
            return; // nothing to finish in order: the JVM exits as on any signal
        }
        if (quit != null) {
            quit.run();
        }
        int status;
        try {
            status = exit.get(GRACE_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            err.println("livemig: still shutting down " + GRACE_SECONDS + " s after the signal; exiting");
            status = Livemig.FAILURE;
        } catch (InterruptedException | ExecutionException e) {
            status = Livemig.FAILURE;
        }
        System.out.flush();
        err.flush();
        Runtime.getRuntime().halt(status);
    }
}
