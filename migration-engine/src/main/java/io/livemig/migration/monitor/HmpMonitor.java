package io.livemig.migration.monitor;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;

/**
 * QEMU's human monitor (HMP) for migration: parses one command line at a time and renders its answer as
 * QEMU prints it.
 */
public final class HmpMonitor {

    private final MigrationTarget target;

    /**
     * A monitor of one end.
     *
     * @param target what the commands act on
     */
    public HmpMonitor(MigrationTarget target) {
        this.target = target;
    }

    /**
     * Runs one command line.
     *
     * @param line e.g. {@code migrate_set_parameter max-bandwidth 40g}
     * @return what to print (possibly empty); errors are returned as QEMU prints them
     */
    public String execute(String line) {
        throw new UnsupportedOperationException("not yet");
    }

    /**
     * Reads commands until end of input or {@code quit}, printing a {@code (livemig) } prompt and answers.
     *
     * @param in command lines
     * @param out answers
     * @throws IOException if reading fails
     */
    public void serve(BufferedReader in, PrintStream out) throws IOException {
        throw new UnsupportedOperationException("not yet");
    }
}
