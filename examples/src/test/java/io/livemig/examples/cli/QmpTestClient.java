package io.livemig.examples.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Just enough QMP to drive a migration: greeting, {@code qmp_capabilities}, one command at a time. */
final class QmpTestClient implements AutoCloseable {

    private final Socket socket;
    private final BufferedReader in;
    private final OutputStream out;

    private QmpTestClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        this.out = socket.getOutputStream();
    }

    /**
     * Connects and enters command mode.
     *
     * @param port the QMP port on 127.0.0.1
     * @param timeout connect and read timeout
     * @return the client
     */
    static QmpTestClient connect(int port, Duration timeout) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), (int) timeout.toMillis());
        socket.setSoTimeout((int) timeout.toMillis());
        QmpTestClient client = new QmpTestClient(socket);
        String greeting = client.in.readLine();
        if (greeting == null || !greeting.contains("\"QMP\"")) {
            client.close();
            throw new IOException("not a QMP greeting: " + greeting);
        }
        client.execute("{\"execute\": \"qmp_capabilities\"}");
        return client;
    }

    /**
     * Sends a command; events that arrive before its answer are skipped.
     *
     * @param command one JSON object
     * @return the answer line
     */
    String execute(String command) throws IOException {
        out.write((command + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        while (true) {
            String line = in.readLine();
            if (line == null) {
                throw new IOException("QMP closed before answering " + command);
            }
            if (!line.isBlank() && !line.contains("\"event\"")) {
                return line;
            }
        }
    }

    /**
     * The first string or number value of a member, wherever it is.
     *
     * @param json the JSON text
     * @param name the member name
     * @return its value without quotes, or null
     */
    static String member(String json, String name) {
        Matcher matcher = Pattern.compile("\"" + Pattern.quote(name) + "\"\\s*:\\s*\"?([^\",}]*)").matcher(json);
        return matcher.find() ? matcher.group(1).strip() : null;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
