package io.livemig.cli;

import java.io.PrintStream;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import reactor.core.publisher.Hooks;

/**
 * What the process prints that no command returns, set once in {@link Livemig#main}: the log records of the
 * engine, the transport and Netty (System.Logger and java.util.logging both end in the JDK's root logger), and
 * the errors Reactor drops because nobody listens any more. Users read one plain line per warning, without
 * logger names or stack traces; {@value Livemig#DEBUG_VARIABLE} adds the stack traces.
 *
 * <p>Dropped errors are the normal end of a cancelled migration: a cancel closes the connection, and the
 * operators still holding it see a closed channel after their subscriber left. Reactor's default logs each at
 * ERROR with its stack trace ("Operator called default onErrorDropped"); here they are printed only in debug.
 */
final class Diagnostics {

    private Diagnostics() {
    }

    /**
     * Routes log records and dropped errors to standard error, one line each.
     *
     * @param err standard error
     * @param debug whether to add stack traces (and print dropped errors at all)
     */
    static void install(PrintStream err, boolean debug) {
        Hooks.onErrorDropped(error -> {
            if (debug) {
                err.println("livemig: (debug) an error after the end of its stream: " + Livemig.describe(error));
                error.printStackTrace(err);
            }
        });
        Logger root = Logger.getLogger("");
        for (Handler handler : root.getHandlers()) {
            root.removeHandler(handler);
        }
        root.addHandler(new OneLineHandler(err, debug));
    }

    /** A log record as {@code livemig: warning: MESSAGE: CAUSE}, plus the stack trace in debug. */
    static final class OneLineHandler extends Handler {

        private final PrintStream err;
        private final boolean debug;

        OneLineHandler(PrintStream err, boolean debug) {
            this.err = err;
            this.debug = debug;
            setLevel(Level.WARNING);
            setFormatter(new Formatter() {
                @Override
                public String format(LogRecord record) {
                    return formatMessage(record);
                }
            });
        }

        @Override
        public void publish(LogRecord record) {
            if (!isLoggable(record)) {
                return;
            }
            StringBuilder line = new StringBuilder("livemig: ")
                    .append(record.getLevel().intValue() >= Level.SEVERE.intValue() ? "error: " : "warning: ")
                    .append(getFormatter().format(record).replace('\n', ' '));
            Throwable thrown = record.getThrown();
            if (thrown != null) {
                line.append(": ").append(Livemig.describe(thrown));
            }
            synchronized (err) {
                err.println(line);
                if (thrown != null && debug) {
                    thrown.printStackTrace(err);
                }
                err.flush();
            }
        }

        @Override
        public void flush() {
            err.flush();
        }

        @Override
        public void close() {
            flush();
        }
    }
}
