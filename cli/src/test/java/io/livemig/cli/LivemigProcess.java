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
import java.util.Map;
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
    /** Standard error when it is kept apart from the output ({@link #startApart}); empty otherwise. */
    private final StringBuffer errors = new StringBuffer();
    private final Thread errorReader;

    private LivemigProcess(Process process) {
        this.process = process;
        this.reader = collect(process.getInputStream(), output);
        this.errorReader = collect(process.getErrorStream(), errors);
    }

    private static Thread collect(java.io.InputStream stream, StringBuffer into) {
        return Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                // By character, not by line: a prompt waits for input without a line end.
                char[] buffer = new char[4096];
                int n;
                while ((n = in.read(buffer)) > 0) {
                    into.append(buffer, 0, n);
                }
            } catch (IOException e) {
                into.append("(reading the output failed: ").append(e).append(")\n");
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
        return new LivemigProcess(builder(Map.of(), List.of(), args).redirectErrorStream(true).start());
    }

    /**
     * Starts {@code livemig ARGS...} with standard error kept apart ({@link #errors()}) and variables added to
     * its environment.
     *
     * @param environment e.g. {@code LIVEMIG_DEBUG=1}
     * @param args the command line
     * @return the running process
     * @throws IOException if it cannot start
     */
    static LivemigProcess startApart(Map<String, String> environment, String... args) throws IOException {
        // These processes are about their output, not their speed: C1 only and the serial collector start them
        // with about a third less CPU, which the tests' many JVMs on two cores feel.
        return new LivemigProcess(builder(environment, List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"),
                args).start());
    }

    private static ProcessBuilder builder(Map<String, String> environment, List<String> jvmOptions,
            String... args) {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-Xmx256m"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Livemig.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().remove(Livemig.DEBUG_VARIABLE);
        builder.environment().putAll(environment);
        return builder;
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
        errorReader.join(timeout.toMillis());
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

    /** Ends the standard input, as Ctrl-D on a terminal does. */
    void closeInput() throws IOException {
        process.getOutputStream().close();
    }

    /**
     * Sends SIGTERM. Through the process's handle: {@link Process#destroy()} also closes the pipes, and what the
     * process prints while it shuts down would be lost.
     */
    void terminate() {
        process.toHandle().destroy();
    }

    /** Sends SIGKILL, as a crash or the OOM killer would, and waits for the process to go. */
    void kill() throws InterruptedException {
        process.toHandle().destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /**
     * What {@link #startApart} collected of standard error so far.
     *
     * @return standard error
     */
    String errors() {
        return errors.toString();
    }

    /**
     * Everything printed so far (with {@link #startApart}, standard output only).
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
