package io.livemig.examples.kv;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * The load generator: a few clients, each on its own thread with its own keys, writing continuously, one request
 * at a time, and recording every write the service acknowledged (204) as the key's last acknowledged value.
 * A write refused (503, or no answer) is retried, with the same value, against whatever {@link #target()} is then
 * (the orchestrator moves it to the new instance at the switchover) until it is acknowledged: so a client sees
 * the switchover as one slow write, and that write's time from its first try to its acknowledgement is the pause
 * it saw.
 */
public final class KvLoad implements AutoCloseable {

    /** The time between two tries of a refused write: short, so the measured pause stays close to the real one. */
    static final Duration RETRY_DELAY = Duration.ofMillis(5);
    /** How long a client waits for one answer before it counts the try as refused. */
    static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(5);
    /** Bytes per value (the key and a sequence number, padded). */
    static final int VALUE_BYTES = 120;

    /**
     * What the clients did, once they stopped.
     *
     * @param acknowledged every key written, with its last acknowledged value
     * @param writes writes acknowledged, all clients
     * @param byInstance writes acknowledged by each address
     * @param retries tries refused or unanswered
     * @param longestPauseNanos the longest time a client waited for one write, from its first try to its
     *        acknowledgement, among the writes that needed more than one try; 0 when none did
     */
    public record Report(Map<String, String> acknowledged, long writes, Map<InetSocketAddress, Long> byInstance,
            long retries, long longestPauseNanos) {
    }

    /**
     * What reading every acknowledged key back found.
     *
     * @param checked keys read
     * @param lost keys the instance did not have (404)
     * @param stale keys whose value was not the last acknowledged one
     * @param firstProblem the first lost or stale key with what was read, for the report; empty when none
     */
    public record Check(long checked, long lost, long stale, Optional<String> firstProblem) {
    }

    private final int clients;
    private final int keysPerClient;
    private final long seed;
    private final AtomicReference<InetSocketAddress> target;
    private final ConnectionProvider connections;
    private final HttpClient http;
    private final LongAdder writes = new LongAdder();
    private final List<Client> running = new ArrayList<>();
    private volatile boolean stopping;

    /**
     * A load generator, not yet started.
     *
     * @param clients how many clients (threads, each with one connection at a time)
     * @param keysPerClient how many keys each client writes, picked at random for each write
     * @param target where the clients write first
     * @param seed the keys' sequence
     */
    public KvLoad(int clients, int keysPerClient, InetSocketAddress target, long seed) {
        this.clients = clients;
        this.keysPerClient = keysPerClient;
        this.seed = seed;
        this.target = new AtomicReference<>(target);
        this.connections = ConnectionProvider.builder("kv-load").maxConnections(4 * clients).build();
        this.http = HttpClient.create(connections).responseTimeout(ANSWER_TIMEOUT);
    }

    /** Starts the clients. */
    public synchronized void start() {
        for (int id = 0; id < clients; id++) {
            Client client = new Client(id, new SplittableRandom(seed + id));
            running.add(client);
            client.thread.start();
        }
    }

    /**
     * Where the clients write from now on (their next try).
     *
     * @param next the instance's address
     */
    public void switchTo(InetSocketAddress next) {
        target.set(next);
    }

    /**
     * Where the clients write now.
     *
     * @return the address
     */
    public InetSocketAddress target() {
        return target.get();
    }

    /**
     * Writes acknowledged so far, all clients.
     *
     * @return the count
     */
    public long writes() {
        return writes.sum();
    }

    /**
     * Waits until the clients have had {@code count} writes acknowledged in all, polling every millisecond.
     *
     * @param count the total to reach
     * @param deadline the longest wait
     * @throws IllegalStateException if the deadline passes first
     */
    public void awaitWrites(long count, Duration deadline) {
        long end = System.nanoTime() + deadline.toNanos();
        while (writes() < count) {
            if (System.nanoTime() - end > 0) {
                throw new IllegalStateException("the clients had " + writes() + " writes acknowledged within "
                        + deadline.toMillis() + " ms, not " + count);
            }
            LockSupport.parkNanos(1_000_000);
        }
    }

    /**
     * Stops the clients after their current write (acknowledged or not) and reports.
     *
     * @return what they did
     * @throws InterruptedException if interrupted while waiting for them
     */
    public synchronized Report stop() throws InterruptedException {
        stopping = true;
        Map<String, String> acknowledged = new HashMap<>();
        Map<InetSocketAddress, Long> byInstance = new HashMap<>();
        long retries = 0;
        long longest = 0;
        for (Client client : running) {
            client.thread.join();
            acknowledged.putAll(client.acknowledged);
            client.byInstance.forEach((address, count) -> byInstance.merge(address, count, Long::sum));
            retries += client.retries;
            longest = Math.max(longest, client.longestPauseNanos);
        }
        running.clear();
        return new Report(Map.copyOf(acknowledged), writes(), Map.copyOf(byInstance), retries, longest);
    }

    /**
     * Reads every acknowledged key back from an instance, 16 at a time.
     *
     * @param instance where to read
     * @param acknowledged the keys and their last acknowledged values
     * @return what was found
     */
    public Check check(InetSocketAddress instance, Map<String, String> acknowledged) {
        record Read(String key, int status, String value) {
        }
        List<Read> reads = Flux.fromIterable(acknowledged.keySet())
                .flatMap(key -> http.get().uri(uri(instance, key))
                        .responseSingle((response, body) -> body.asString(StandardCharsets.UTF_8)
                                .defaultIfEmpty("")
                                .map(value -> new Read(key, response.status().code(), value))), 16)
                .collectList()
                .block(Duration.ofSeconds(60));
        long lost = 0;
        long stale = 0;
        String first = null;
        for (Read read : reads) {
            String expected = acknowledged.get(read.key());
            if (read.status() == 200 && read.value().equals(expected)) {
                continue;
            }
            if (read.status() == 404) {
                lost++;
            } else {
                stale++;
            }
            if (first == null) {
                first = read.key() + ": " + read.status() + " '" + read.value() + "', acknowledged '" + expected + "'";
            }
        }
        return new Check(reads.size(), lost, stale, Optional.ofNullable(first));
    }

    /** Stops the clients if still running and closes the connections. */
    @Override
    public void close() throws InterruptedException {
        stop();
        connections.disposeLater().block(Duration.ofSeconds(10));
    }

    private static String uri(InetSocketAddress instance, String key) {
        return "http://" + instance.getHostString() + ":" + instance.getPort() + "/kv/" + key;
    }

    /** The status of one try; -1 when it got no answer. */
    private int put(InetSocketAddress instance, String key, String value) {
        try {
            Integer status = http.put().uri(uri(instance, key))
                    .send(ByteBufFlux.fromString(Mono.just(value)))
                    .responseSingle((response, body) -> body.then(Mono.just(response.status().code())))
                    .block(ANSWER_TIMEOUT.plusSeconds(1));
            return status == null ? -1 : status;
        } catch (RuntimeException noAnswer) {
            return -1;
        }
    }

    /** One client: its thread, and what only that thread writes until {@link #stop()} joins it. */
    private final class Client {
        final Thread thread;
        final SplittableRandom random;
        final Map<String, String> acknowledged = new HashMap<>();
        final Map<InetSocketAddress, Long> byInstance = new HashMap<>();
        long retries;
        long longestPauseNanos;

        Client(int id, SplittableRandom random) {
            this.random = random;
            this.thread = Thread.ofPlatform().name("kv-client-" + id).daemon().unstarted(() -> run(id));
        }

        private void run(int id) {
            long sequence = 0;
            while (!stopping) {
                String key = "c" + id + "-k" + random.nextInt(keysPerClient);
                String value = pad(key + "@" + ++sequence);
                long firstTry = System.nanoTime();
                boolean retried = false;
                while (!stopping) {
                    InetSocketAddress instance = target.get();
                    if (put(instance, key, value) == 204) {
                        if (retried) {
                            longestPauseNanos = Math.max(longestPauseNanos, System.nanoTime() - firstTry);
                        }
                        acknowledged.put(key, value);
                        byInstance.merge(instance, 1L, Long::sum);
                        writes.increment();
                        break;
                    }
                    retried = true;
                    retries++;
                    LockSupport.parkNanos(RETRY_DELAY.toNanos());
                }
            }
        }
    }

    private static String pad(String value) {
        return value + ".".repeat(VALUE_BYTES - value.length());
    }
}
