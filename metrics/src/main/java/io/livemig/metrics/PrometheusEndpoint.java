package io.livemig.metrics;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.resources.LoopResources;

/**
 * A Prometheus scrape endpoint, {@code GET /metrics}, served by reactor-netty's HTTP server on one event loop of its
 * own. The format follows the request's {@code Accept} header: OpenMetrics 1.0 when it asks for
 * {@code application/openmetrics-text} (as Prometheus does by default) at least as much as for plain text, the
 * Prometheus text format 0.0.4 otherwise. Any other path answers 404.
 *
 * <pre>{@code
 * try (PrometheusEndpoint endpoint = PrometheusEndpoint.start(registry, 9464)) {
 *     System.out.println("metrics at http://localhost:" + endpoint.port() + PrometheusEndpoint.PATH);
 *     ...
 * }
 * }</pre>
 *
 * <p>The endpoint owns its server and its loop; {@link #close()} releases both and may be called more than once, from
 * any thread.
 */
public final class PrometheusEndpoint implements AutoCloseable {

    /** Where the metrics are. */
    public static final String PATH = "/metrics";
    /** The Prometheus text format's content type. */
    public static final String TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8";
    /** The OpenMetrics text format's content type. */
    public static final String OPENMETRICS_FORMAT = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final LoopResources loops;
    private final DisposableServer server;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Completed once {@link #close()} has released the server and the loop. */
    private final CompletableFuture<Void> released = new CompletableFuture<>();

    private PrometheusEndpoint(LoopResources loops, DisposableServer server) {
        this.loops = loops;
        this.server = server;
    }

    /**
     * Serves the registry on the loopback address only, as the command line's {@code --metrics-port} does without
     * {@code --metrics-address}: metrics name hosts, sizes and timings, so serving them beyond this host is a choice
     * made with {@link #start(PrometheusMeterRegistry, InetSocketAddress)}.
     *
     * @param registry what to serve
     * @param port the TCP port; 0 picks a free one ({@link #port()} tells which)
     * @return the running endpoint
     * @throws IOException when the port cannot be bound (in use, not permitted)
     */
    public static PrometheusEndpoint start(PrometheusMeterRegistry registry, int port) throws IOException {
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        return start(registry, new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port));
    }

    /**
     * Serves the registry on one address.
     *
     * @param registry what to serve
     * @param address where to listen (port 0 picks a free one)
     * @return the running endpoint
     * @throws IOException when the address cannot be bound
     */
    public static PrometheusEndpoint start(PrometheusMeterRegistry registry, InetSocketAddress address)
            throws IOException {
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(address, "address");
        // One daemon loop: scrapes are rare, and a process exiting must not wait for this endpoint.
        LoopResources loops = LoopResources.create("livemig-metrics", 1, 1, true);
        try {
            DisposableServer server = HttpServer.create()
                    .bindAddress(() -> address)
                    .runOn(loops)
                    .route(routes -> routes.get(PATH, (request, response) -> scrape(registry, request, response)))
                    .bindNow(TIMEOUT);
            return new PrometheusEndpoint(loops, server);
        } catch (RuntimeException e) {
            // No quiet period: the server is gone, nothing else runs on this loop.
            loops.disposeLater(Duration.ZERO, TIMEOUT).block(TIMEOUT);
            IOException cause = ioCause(e);
            if (cause != null) {
                throw new IOException("cannot serve metrics on " + address + ": " + cause.getMessage(), cause);
            }
            throw e;
        }
    }

    private static IOException ioCause(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof IOException io) {
                return io;
            }
        }
        return null;
    }

    private static Mono<Void> scrape(PrometheusMeterRegistry registry, HttpServerRequest request,
            HttpServerResponse response) {
        String contentType = contentType(request.requestHeaders().get(HttpHeaderNames.ACCEPT));
        return response.header(HttpHeaderNames.CONTENT_TYPE, contentType)
                .sendString(Mono.fromCallable(() -> registry.scrape(contentType)), StandardCharsets.UTF_8)
                .then();
    }

    /**
     * The format to answer an {@code Accept} header with: OpenMetrics when it accepts
     * {@code application/openmetrics-text} with a quality above zero and at least that of any text range
     * ({@code text/plain}, {@code text/*}, {@code *}{@code /*}); the text format otherwise, and when there is no
     * header.
     *
     * @param accept the header, or null
     * @return {@link #OPENMETRICS_FORMAT} or {@link #TEXT_FORMAT}
     */
    public static String contentType(String accept) {
        if (accept == null) {
            return TEXT_FORMAT;
        }
        double openMetrics = 0;
        double text = 0;
        for (String range : accept.split(",")) {
            String[] parts = range.split(";");
            String mediaType = parts[0].trim().toLowerCase(Locale.ROOT);
            double quality = quality(parts);
            if (mediaType.equals("application/openmetrics-text")) {
                openMetrics = Math.max(openMetrics, quality);
            } else if (mediaType.equals("text/plain") || mediaType.equals("text/*") || mediaType.equals("*/*")) {
                text = Math.max(text, quality);
            }
        }
        return openMetrics > 0 && openMetrics >= text ? OPENMETRICS_FORMAT : TEXT_FORMAT;
    }

    private static double quality(String[] parameters) {
        for (int i = 1; i < parameters.length; i++) {
            String parameter = parameters[i].trim().toLowerCase(Locale.ROOT);
            if (parameter.startsWith("q=")) {
                try {
                    return Double.parseDouble(parameter.substring(2));
                } catch (NumberFormatException e) {
                    return 0;
                }
            }
        }
        return 1;
    }

    /**
     * The port the endpoint listens on.
     *
     * @return the bound port (the chosen one when started with port 0)
     */
    public int port() {
        return server.port();
    }

    /**
     * The address the endpoint listens on.
     *
     * @return the bound address
     */
    public InetSocketAddress address() {
        return (InetSocketAddress) server.address();
    }

    /**
     * Keeps serving for {@code linger}, then closes, without blocking the caller: the scrapes that come by after a
     * process's work ended still find its final values, as {@code livemig destination --metrics-linger} does. A
     * {@link #close()} before then closes at once.
     *
     * @param linger how long to go on serving; zero closes now
     * @return completes once the endpoint is closed, whichever way
     */
    public CompletableFuture<Void> closeAfter(Duration linger) {
        Objects.requireNonNull(linger, "linger");
        if (linger.isNegative()) {
            throw new IllegalArgumentException("negative linger: " + linger);
        }
        // The delayer's thread is a daemon: a process that exits earlier is not held up by this timer.
        CompletableFuture.runAsync(this::close, CompletableFuture.delayedExecutor(linger.toNanos(),
                TimeUnit.NANOSECONDS));
        return released.copy();
    }

    /** Stops serving and releases the port and the loop; idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            server.disposeNow(TIMEOUT);
        } finally {
            try {
                loops.disposeLater(Duration.ZERO, TIMEOUT).block(TIMEOUT);
            } finally {
                released.complete(null);
            }
        }
    }

    @Override
    public String toString() {
        return "PrometheusEndpoint[" + server.address() + PATH + (closed.get() ? ", closed" : "") + "]";
    }
}
