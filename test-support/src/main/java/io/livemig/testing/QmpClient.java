package io.livemig.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A minimal QMP client, as a script would drive QEMU: read the greeting, negotiate capabilities, then one
 * command at a time, collecting asynchronous events that arrive in between. Answers are kept as JSON text;
 * tests read the few members they need with {@link #member}. Shared by the command line's two-process tests and
 * the container suite.
 */
public final class QmpClient implements AutoCloseable {

    private final Socket socket;
    private final BufferedReader in;
    private final OutputStream out;
    private final List<String> events = new ArrayList<>();

    private QmpClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        this.out = socket.getOutputStream();
    }

    /**
     * Connects, reads the greeting and sends {@code qmp_capabilities}.
     *
     * @param host host
     * @param port port
     * @param timeout connect and read timeout
     * @return the client in command mode
     * @throws IOException if the monitor does not answer like QMP
     */
    public static QmpClient connect(String host, int port, Duration timeout) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress(host, port), (int) timeout.toMillis());
        socket.setSoTimeout((int) timeout.toMillis());
        QmpClient client = new QmpClient(socket);
        String greeting = client.in.readLine();
        if (greeting == null || !greeting.contains("\"QMP\"")) {
            client.close();
            throw new IOException("not a QMP greeting: " + greeting);
        }
        client.execute("{\"execute\": \"qmp_capabilities\"}");
        return client;
    }

    /**
     * Sends a command and returns its answer ({@code {"return": ...}} or {@code {"error": ...}}).
     *
     * @param command one JSON object
     * @return the answer line
     * @throws IOException if the connection fails
     */
    public String execute(String command) throws IOException {
        out.write((command + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        while (true) {
            String line = in.readLine();
            if (line == null) {
                throw new IOException("QMP connection closed while waiting for the answer to " + command);
            }
            if (line.contains("\"event\"")) {
                events.add(line);
            } else if (!line.isBlank()) {
                return line;
            }
        }
    }

    /**
     * {@code query-migrate}'s status.
     *
     * @return e.g. {@code active}, or {@code none} when QEMU answers {@code {}}
     * @throws IOException if the connection fails
     */
    public String migrationStatus() throws IOException {
        String answer = execute("{\"execute\": \"query-migrate\"}");
        String status = member(answer, "status");
        return status == null ? "none" : status;
    }

    /**
     * Events seen so far.
     *
     * @return the event lines, oldest first
     */
    public List<String> events() {
        return events;
    }

    /**
     * The first string (or number) member of that name anywhere in {@code json}.
     *
     * @param json JSON text
     * @param name member name
     * @return its value as text, or null
     */
    public static String member(String json, String name) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(name) + "\"\\s*:\\s*(\"((?:[^\"\\\\]|\\\\.)*)\"|[-0-9.]+)")
                .matcher(json);
        if (!m.find()) {
            return null;
        }
        return m.group(2) != null ? m.group(2) : m.group(1);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
