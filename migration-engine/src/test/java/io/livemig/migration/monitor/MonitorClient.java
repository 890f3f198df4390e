package io.livemig.migration.monitor;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A test client for a {@link MonitorServer}: raw lines as the server wrote them (QMP's {@code \r\n} kept),
 * read on a thread of its own; QMP events are sorted from answers. Reads and writes go straight to the
 * blocking channel, which has separate read and write locks, so that a write never waits for a pending read.
 */
final class MonitorClient implements AutoCloseable {

    /** Queued when the server closed the connection. */
    static final String EOF = "<eof>";

    /** Reads answers as plain maps and lists, integers as Long. */
    private static final JsonMapper JSON = JsonMapper.builder().enable(DeserializationFeature.USE_LONG_FOR_INTS)
            .build();

    private final SocketChannel channel;
    private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();
    private final BlockingQueue<String> events = new LinkedBlockingQueue<>();

    MonitorClient(String address) throws IOException {
        MonitorAddress parsed = MonitorAddress.parse(address);
        SocketAddress target = parsed.isUnix() ? UnixDomainSocketAddress.of(parsed.unixPath())
                : new InetSocketAddress(parsed.host(), parsed.port());
        channel = SocketChannel.open(parsed.isUnix() ? StandardProtocolFamily.UNIX : StandardProtocolFamily.INET);
        channel.connect(target);
        Thread.ofPlatform().daemon().name("monitor-test-client").start(this::read);
    }

    static Path unixPath(String address) {
        return MonitorAddress.parse(address).unixPath();
    }

    private void read() {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        ByteBuffer buffer = ByteBuffer.allocate(8192);
        try {
            while (channel.read(buffer.clear()) >= 0) {
                buffer.flip();
                while (buffer.hasRemaining()) {
                    byte b = buffer.get();
                    line.write(b);
                    if (b == '\n') {
                        String text = line.toString(StandardCharsets.UTF_8);
                        line.reset();
                        (text.startsWith("{\"timestamp\"") ? events : answers).add(text);
                    }
                }
            }
            if (line.size() > 0) {
                answers.add(line.toString(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            // Closed by the test, or reset by the server.
        }
        answers.add(EOF);
        events.add(EOF);
    }

    /** Sends text as is. */
    void send(String text) throws IOException {
        send(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Sends bytes as they are. */
    void send(byte[] bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    /** Ends this client's output, as a script piping commands in does at its end; answers still arrive. */
    void shutdownOutput() throws IOException {
        channel.shutdownOutput();
    }

    /** The next non-event line, raw (with its line ending). */
    String nextRaw() throws InterruptedException {
        String line = answers.poll(MigrationPair.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        if (line == null) {
            throw new AssertionError("no answer");
        }
        return line;
    }

    /** The next non-event line if one arrives within the wait, else null. */
    String pollRaw(Duration wait) throws InterruptedException {
        return answers.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The next QMP answer, checked to end with CRLF as QEMU's, without it. */
    String next() throws InterruptedException {
        String line = nextRaw();
        if (line.equals(EOF)) {
            return EOF;
        }
        if (!line.endsWith("\r\n")) {
            throw new AssertionError("QMP line without CRLF: " + line);
        }
        return line.substring(0, line.length() - 2);
    }

    /** Sends a request line and returns the answer. */
    String execute(String request) throws IOException, InterruptedException {
        send(request + "\n");
        return next();
    }

    /** The answer's {@code return} value, read as JSON. */
    Object returned(String request) throws IOException, InterruptedException {
        String answer = execute(request);
        Object parsed = JSON.readValue(answer, Object.class);
        if (!(parsed instanceof Map<?, ?> map) || !map.containsKey("return")) {
            throw new AssertionError("not a return: " + answer);
        }
        return map.get("return");
    }

    /** The next event line without its CRLF, or {@link #EOF}. */
    String nextEvent() throws InterruptedException {
        String line = events.poll(MigrationPair.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        if (line == null) {
            throw new AssertionError("no event");
        }
        return line.equals(EOF) ? EOF : line.substring(0, line.length() - 2);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
