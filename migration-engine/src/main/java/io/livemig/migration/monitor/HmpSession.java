package io.livemig.migration.monitor;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.channels.SocketChannel;

/** An HMP client on a socket: QEMU's banner, then {@link HmpMonitor#serve} until EOF or {@code quit}. */
final class HmpSession implements MonitorSession {

    /** What QEMU prints first on a monitor, with livemig's name. */
    static final String BANNER = "livemig 0.1.0 monitor - type 'help' for more information";

    private final SocketChannel channel;
    private final HmpMonitor monitor;

    HmpSession(SocketChannel channel, MigrationTarget target) {
        this.channel = channel;
        this.monitor = new HmpMonitor(target);
    }

    @Override
    public void run() {
        try (channel) {
            BufferedReader in = new BufferedReader(new InputStreamReader(ChannelStreams.input(channel),
                    StandardCharsets.UTF_8));
            PrintStream out = new PrintStream(ChannelStreams.output(channel), true, StandardCharsets.UTF_8);
            out.println(BANNER);
            monitor.serve(in, out);
        } catch (IOException e) {
            // The client went away or the server closed the session: nothing to tell anyone.
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // Closing a socket that fails to close leaves nothing to do.
        }
    }
}
