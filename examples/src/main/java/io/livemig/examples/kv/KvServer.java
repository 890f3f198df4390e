package io.livemig.examples.kv;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * One instance of the key-value service: a Reactor Netty HTTP server on the loopback interface in front of a
 * {@link KvTable}.
 * <pre>
 * PUT /kv/{key}  body = value   204 stored; 503 paused for switchover or memory not arrived (retry elsewhere or
 *                               later); 507 table full; 400 key or value too long. While a migration holds the
 *                               table's writes (a harvest of soft-dirty bits), the answer waits for the hold's end.
 * GET /kv/{key}                 200 the value; 404 absent; 503 memory not arrived
 * </pre>
 * The handlers run on the server's event loop: a put is a short critical section and a copy of at most 256 bytes.
 */
public final class KvServer implements AutoCloseable {

    private final String name;
    private final KvTable table;
    private final DisposableServer server;
    /** The time one put is held back at a throttle of 50%; at {@code p}% it is {@code p / (100 - p)} times it. */
    static final Duration THROTTLE_UNIT = Duration.ofMillis(1);

    private final LongAdder stored = new LongAdder();
    private volatile int throttlePercent;

    private KvServer(String name, KvTable table) {
        this.name = name;
        this.table = table;
        this.server = HttpServer.create()
                .host("127.0.0.1")
                .port(0)
                .route(routes -> routes
                        .put("/kv/{key}", this::put)
                        .get("/kv/{key}", this::get))
                .bindNow(Duration.ofSeconds(10));
    }

    /**
     * Starts an instance.
     *
     * @param name for reports ({@code "A"}, {@code "B"})
     * @param table its table
     * @return the instance, listening on an ephemeral loopback port
     */
    public static KvServer start(String name, KvTable table) {
        return new KvServer(name, table);
    }

    private Mono<Void> put(HttpServerRequest request, HttpServerResponse response) {
        String key = request.param("key");
        int throttle = throttlePercent;
        Mono<byte[]> body = request.receive().aggregate().asByteArray().defaultIfEmpty(new byte[0]);
        if (throttle > 0) {
            // Auto-converge: each write waits, so each client writes p% less often (as QEMU sleeps a vCPU p% of
            // each time slice); the event loop is not blocked.
            body = body.delayElement(Duration.ofNanos(THROTTLE_UNIT.toNanos() * throttle / (100 - throttle)));
        }
        return body
                .flatMap(value -> store(key, value))
                .flatMap(status -> {
                    if (status == 204) {
                        stored.increment();
                    }
                    return Mono.from(response.status(status).send());
                });
    }

    /** The put's HTTP status, once the table took or refused it; a held write waits without blocking the loop. */
    private Mono<Integer> store(String key, byte[] value) {
        return Mono.defer(() -> {
            KvTable.PutResult result;
            try {
                result = table.put(key, value);
            } catch (IllegalArgumentException tooLong) {
                return Mono.just(400);
            }
            return switch (result) {
                case STORED -> Mono.just(204);
                case REFUSED -> Mono.just(503);
                case FULL -> Mono.just(507);
                case HELD -> Mono.fromFuture(table.writable()).then(store(key, value));
            };
        });
    }

    private Mono<Void> get(HttpServerRequest request, HttpServerResponse response) {
        String key = request.param("key");
        Optional<byte[]> value;
        try {
            value = table.get(key);
        } catch (IllegalArgumentException tooLong) {
            return Mono.from(response.status(400).send());
        } catch (IllegalStateException waiting) {
            return Mono.from(response.status(503).send());
        }
        if (value.isEmpty()) {
            return Mono.from(response.status(404).send());
        }
        return Mono.from(response.status(200).sendByteArray(Mono.just(value.get())));
    }

    /**
     * Slows writes down: the migration's auto-converge ({@code Workload.throttle}).
     *
     * @param percent 0 (full speed) to 99
     */
    public void throttle(int percent) {
        throttlePercent = percent;
    }

    /**
     * The instance's name.
     *
     * @return for example {@code "A"}
     */
    public String name() {
        return name;
    }

    /**
     * Where it listens.
     *
     * @return the loopback address and port
     */
    public InetSocketAddress address() {
        return (InetSocketAddress) server.address();
    }

    /**
     * Its table.
     *
     * @return the table
     */
    public KvTable table() {
        return table;
    }

    /**
     * Puts this instance acknowledged (204).
     *
     * @return the count
     */
    public long stored() {
        return stored.sum();
    }

    /** Stops listening and closes the connections (the table and its memory are the caller's). */
    @Override
    public void close() {
        server.disposeNow(Duration.ofSeconds(10));
    }
}
