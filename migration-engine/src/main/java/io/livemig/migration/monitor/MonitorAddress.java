package io.livemig.migration.monitor;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;

/**
 * Where a monitor listens: {@code unix:PATH} or {@code tcp:HOST:PORT} ({@code HOST} may be a bracketed
 * IPv6 literal; port 0 picks a free port). Without a host ({@code tcp:PORT} or {@code tcp::PORT}) a monitor listens
 * on the loopback address only, {@value #DEFAULT_HOST}: a monitor starts and cancels migrations, so reaching it from
 * elsewhere takes an explicit host ({@code tcp:0.0.0.0:PORT}). QEMU binds every interface for an empty host; this is
 * the one deliberate difference. QEMU's chardev options after a comma ({@code ,server=on},
 * {@code ,wait=off}, {@code ,server}, {@code ,nowait}) are accepted and ignored, since a monitor here
 * always listens and never waits, so that a command line copied from QEMU works.
 *
 * @param unixPath the socket file for {@code unix:}, else null
 * @param host the host for {@code tcp:}, else null
 * @param port the port for {@code tcp:}
 */
record MonitorAddress(Path unixPath, String host, int port) {

    private static final String EXPECTED = "; expected unix:PATH or tcp:HOST:PORT";
    /** Where a {@code tcp:} monitor without a host listens. */
    static final String DEFAULT_HOST = "127.0.0.1";

    /** Parses an address, with a message naming what is wrong. */
    static MonitorAddress parse(String address) {
        String text = stripOptions(address);
        if (text.startsWith("unix:")) {
            String path = text.substring("unix:".length());
            if (path.isEmpty()) {
                throw new IllegalArgumentException("missing path in monitor address '" + address + "'" + EXPECTED);
            }
            return new MonitorAddress(Path.of(path), null, 0);
        }
        if (!text.startsWith("tcp:")) {
            throw new IllegalArgumentException("unsupported monitor address '" + address + "'" + EXPECTED);
        }
        String rest = text.substring("tcp:".length());
        int colon = rest.lastIndexOf(':');
        boolean portOnly = colon < 0 && !rest.isEmpty() && rest.chars().allMatch(c -> c >= '0' && c <= '9');
        if (colon < 0 && !portOnly) {
            throw new IllegalArgumentException("missing port in monitor address '" + address + "'" + EXPECTED);
        }
        String host = portOnly ? "" : rest.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (host.isEmpty()) {
            host = DEFAULT_HOST;
        }
        String portText = portOnly ? rest : rest.substring(colon + 1);
        int port;
        try {
            port = Integer.parseInt(portText);
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 0 || port > 65535 || !portText.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("invalid port '" + portText + "' in monitor address '" + address
                    + "'" + EXPECTED);
        }
        return new MonitorAddress(null, host, port);
    }

    private static String stripOptions(String address) {
        int comma = address.indexOf(',');
        if (comma < 0) {
            return address;
        }
        for (String option : address.substring(comma + 1).split(",")) {
            if (!option.equals("server") && !option.equals("nowait") && !option.equals("server=on")
                    && !option.equals("wait=off")) {
                throw new IllegalArgumentException("unsupported option '" + option + "' in monitor address '"
                        + address + "'" + EXPECTED);
            }
        }
        return address.substring(0, comma);
    }

    boolean isUnix() {
        return unixPath != null;
    }

    /** The address to bind. */
    SocketAddress socketAddress() {
        return isUnix() ? UnixDomainSocketAddress.of(unixPath) : new InetSocketAddress(host, port);
    }

    /** The text form with the port actually bound. */
    String describe(SocketAddress bound) {
        if (isUnix()) {
            return "unix:" + unixPath;
        }
        return hostPort("tcp", new InetSocketAddress(host, ((InetSocketAddress) bound).getPort()));
    }

    /** {@code SCHEME:HOST:PORT} with an IPv6 host bracketed. */
    static String hostPort(String scheme, InetSocketAddress address) {
        String host = address.getHostString();
        return scheme + ":" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + address.getPort();
    }
}
