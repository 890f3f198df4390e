package io.livemig.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * A {@code livemig} command in a JVM of its own, started from the test class path, with its output (stdout and
 * stderr merged) collected as it comes so that tests can wait for a line with a deadline.
 */
final class LivemigProcess implements AutoCloseable {

    private final Process process;
    private final StringBuffer output = new StringBuffer();
    private final Thread reader;

    private LivemigProcess(Process process) {
        this.process = process;
        this.reader = Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    output.append(line).append('\n');
                }
            } catch (IOException e) {
                output.append("(reading the output failed: ").append(e).append(")\n");
            }
        });
    }

    /**
     * Starts {@code livemig ARGS...}.
     *
     * @param args the command line
     * @return the running process
     * @throws IOException if it cannot start
     */
    static LivemigProcess start(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                Livemig.class.getName()));
        command.addAll(List.of(args));
        return new LivemigProcess(new ProcessBuilder(command).redirectErrorStream(true).start());
    }

    /**
     * A TCP port nobody listens on now (for the destination's {@code --incoming}, which the source must know).
     *
     * @return the port
     * @throws IOException if none can be had
     */
    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /**
     * Waits until the output holds a match of {@code regex}.
     *
     * @param regex a pattern found anywhere in the output
     * @param timeout the deadline
     * @return the output so far
     * @throws AssertionError with the output when the deadline passes or the process ends first
     */
    String awaitOutput(String regex, Duration timeout) throws InterruptedException {
        Pattern pattern = Pattern.compile(regex, Pattern.MULTILINE);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            String now = output.toString();
            if (pattern.matcher(now).find()) {
                return now;
            }
            if (!process.isAlive() && !reader.isAlive() && !pattern.matcher(output.toString()).find()) {
                throw new AssertionError("the process exited (" + process.exitValue() + ") without printing /"
                        + regex + "/:\n" + output);
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no /" + regex + "/ within " + timeout + " in:\n" + output);
    }

    /**
     * Waits for the process to exit, and for its output to be read.
     *
     * @param timeout the deadline
     * @return the exit status
     */
    int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("still running after " + timeout + ":\n" + output);
        }
        reader.join(timeout.toMillis());
        return process.exitValue();
    }

    /**
     * Writes a line to the process's standard input.
     *
     * @param line the line
     * @throws IOException if the pipe is closed
     */
    void send(String line) throws IOException {
        OutputStream in = process.getOutputStream();
        in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        in.flush();
    }

    /**
     * Everything printed so far.
     *
     * @return the output
     */
    String output() {
        return output.toString();
    }

    /** Kills the process if it still runs (and its children, of which there are none). */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
