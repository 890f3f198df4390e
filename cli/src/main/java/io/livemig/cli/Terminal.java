package io.livemig.cli;

import java.io.InputStream;
import java.io.PrintStream;

/**
 * The streams a command talks to: the process's own in {@link Livemig#main}, captured ones in tests.
 *
 * @param in standard input (the {@code --monitor stdio} commands)
 * @param out standard output
 * @param err standard error
 */
record Terminal(InputStream in, PrintStream out, PrintStream err) {
}
