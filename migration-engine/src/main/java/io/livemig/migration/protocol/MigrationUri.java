package io.livemig.migration.protocol;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * A migration URI, {@code rdma:HOST:PORT}, as QEMU's {@code -incoming} and {@code migrate} take it
 * (spec section 2.1): HOST is a host name, an IPv4 address or a bracketed IPv6 address with an
 * optional {@code %scope} ({@code rdma:[fe80::1%eth0]:29200}); PORT is decimal.
 *
 * @param host the host without brackets (an IPv6 literal keeps its {@code %scope})
 * @param port 0 to 65535 (0 lets a listener pick a free port)
 */
public record MigrationUri(String host, int port) {

    /** The URI scheme. */
    public static final String SCHEME = "rdma";
    /** QEMU's customary RDMA migration port: ('R'+'D'+'M'+'A') × 100. */
    public static final int DEFAULT_PORT = 29200;

    private static final String EXPECTED = "; expected rdma:HOST:PORT";

    /**
     * Checks the parts.
     *
     * @throws IllegalArgumentException for an invalid host or port
     */
    public MigrationUri {
        Objects.requireNonNull(host, "host");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is out of range 0-65535");
        }
        String problem = hostProblem(host);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
    }

    /**
     * Parses a migration URI.
     *
     * @param uri text such as {@code rdma:192.168.1.2:4444}
     * @return the URI
     * @throws IllegalArgumentException with a message that says what is wrong and what is expected
     */
    public static MigrationUri parse(String uri) {
        Objects.requireNonNull(uri, "uri");
        if (uri.isBlank()) {
            throw new IllegalArgumentException("migration URI is empty" + EXPECTED);
        }
        int colon = uri.indexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("'" + uri + "' is not a migration URI" + EXPECTED);
        }
        String scheme = uri.substring(0, colon);
        if (scheme.equals("x-rdma")) {
            throw new IllegalArgumentException("'x-rdma:' is the spelling QEMU dropped in 2.1; use rdma:HOST:PORT");
        }
        if (!scheme.equals(SCHEME)) {
            throw new IllegalArgumentException("unsupported migration transport '" + scheme + "' in '" + uri
                    + "'; livemig migrates over rdma:HOST:PORT");
        }
        String rest = uri.substring(colon + 1);
        if (rest.isEmpty()) {
            throw new IllegalArgumentException("missing host and port in '" + uri + "'" + EXPECTED);
        }
        String host;
        String portText;
        if (rest.startsWith("[")) {
            int close = rest.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("unterminated IPv6 address in '" + uri
                        + "'; expected rdma:[ADDRESS]:PORT");
            }
            host = rest.substring(1, close);
            String afterBracket = rest.substring(close + 1);
            if (!afterBracket.startsWith(":")) {
                throw new IllegalArgumentException("missing port after the IPv6 address in '" + uri
                        + "'; expected rdma:[ADDRESS]:PORT");
            }
            String problem = ipv6Problem(host);
            if (problem != null) {
                throw new IllegalArgumentException(problem + " in '" + uri + "'");
            }
            portText = afterBracket.substring(1);
        } else {
            int lastColon = rest.lastIndexOf(':');
            if (lastColon < 0) {
                throw new IllegalArgumentException("missing port in '" + uri + "'" + EXPECTED);
            }
            host = rest.substring(0, lastColon);
            portText = rest.substring(lastColon + 1);
            if (host.indexOf(':') >= 0) {
                throw new IllegalArgumentException("IPv6 address '" + host + "' must be in brackets: rdma:[" + host
                        + "]:" + portText);
            }
            if (host.isEmpty()) {
                throw new IllegalArgumentException("missing host in '" + uri + "' (RDMA hostname has not been set)"
                        + EXPECTED);
            }
            String problem = hostProblem(host);
            if (problem != null) {
                throw new IllegalArgumentException(problem + " in '" + uri + "'");
            }
        }
        return new MigrationUri(host, parsePort(portText, uri));
    }

    private static int parsePort(String text, String uri) {
        if (text.isEmpty()) {
            throw new IllegalArgumentException("missing port in '" + uri + "'" + EXPECTED);
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                throw new IllegalArgumentException("port '" + text + "' in '" + uri + "' is not a number");
            }
        }
        // Strip leading zeros before the range check so that a long string cannot overflow.
        String digits = text.replaceFirst("^0+(?=.)", "");
        if (digits.length() > 5 || Integer.parseInt(digits) > 65535) {
            throw new IllegalArgumentException("port " + digits + " in '" + uri + "' is out of range 0-65535");
        }
        return Integer.parseInt(digits);
    }

    /** Returns why {@code host} is not acceptable, or null. */
    private static String hostProblem(String host) {
        if (host.isEmpty()) {
            return "missing host (RDMA hostname has not been set)";
        }
        if (host.indexOf(':') >= 0) {
            return ipv6Problem(host);
        }
        boolean dotsAndDigits = host.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'));
        if (dotsAndDigits) {
            try {
                Inet4Address.ofLiteral(host);
                return null;
            } catch (IllegalArgumentException e) {
                return "'" + host + "' is not a valid IPv4 address";
            }
        }
        if (host.length() > 253) {
            return "host name '" + host.substring(0, 20) + "...' is longer than 253 characters";
        }
        for (String label : host.split("\\.", -1)) {
            if (label.isEmpty() || label.length() > 63 || label.startsWith("-") || label.endsWith("-")
                    || !label.chars().allMatch(c -> c == '-' || c == '_' || Character.isLetterOrDigit(c) && c < 128)) {
                return "'" + host + "' is not a valid host name";
            }
        }
        return null;
    }

    /** Returns why {@code literal} (no brackets, optional %scope) is not an IPv6 address, or null. */
    private static String ipv6Problem(String literal) {
        int percent = literal.indexOf('%');
        String address = percent < 0 ? literal : literal.substring(0, percent);
        if (percent >= 0) {
            String scope = literal.substring(percent + 1);
            if (scope.isEmpty() || !scope.chars().allMatch(c -> c == '-' || c == '_' || c == '.'
                    || (c < 128 && Character.isLetterOrDigit(c)))) {
                return "'" + literal + "' has an invalid IPv6 scope '" + scope + "'";
            }
        }
        try {
            // Literal parsing only: never a DNS lookup, never an interface lookup for the scope.
            Inet6Address.ofLiteral(address);
            return null;
        } catch (IllegalArgumentException e) {
            return "'" + literal + "' is not a valid IPv6 address";
        }
    }

    /**
     * Whether the host is an IPv6 literal.
     *
     * @return true for {@code [..]} hosts
     */
    public boolean isIpv6Literal() {
        return host.indexOf(':') >= 0;
    }

    /**
     * An unresolved socket address for the connection manager to resolve (as {@code rdma_getaddrinfo}).
     *
     * @return the address
     */
    public InetSocketAddress toSocketAddress() {
        return InetSocketAddress.createUnresolved(host, port);
    }

    /**
     * The canonical text, which {@link #parse} reads back: {@code rdma:HOST:PORT} with IPv6 bracketed.
     */
    @Override
    public String toString() {
        return SCHEME + ":" + (isIpv6Literal() ? "[" + host + "]" : host) + ":" + port;
    }
}
