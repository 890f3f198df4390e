package io.livemig.examples;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** What a sample's {@code main} prints. */
final class SampleOutput {

    /** A {@code main} method. */
    @FunctionalInterface
    interface Main {
        void run() throws Exception;
    }

    private SampleOutput() {
    }

    /**
     * Runs {@code main} with {@code System.out} captured.
     *
     * @param main the sample
     * @return its standard output
     * @throws Exception what it throws
     */
    static String of(Main main) throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            main.run();
        } finally {
            System.setOut(original);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }
}
