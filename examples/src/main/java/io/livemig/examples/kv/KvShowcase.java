package io.livemig.examples.kv;

import io.livemig.migration.api.DestinationController;
import io.livemig.migration.api.SourceController;
import io.livemig.migration.api.Workload;
import io.livemig.migration.params.MigrationCapability;
import io.livemig.migration.params.MigrationParameters;
import io.livemig.migration.protocol.MigrationUri;
import io.livemig.migration.ram.DirtyTracking;
import io.livemig.migration.ram.DirtyTrackingMode;
import io.livemig.migration.ram.RamBlock;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.status.MigrationInfo;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * The showcase: a key-value service migrating live while it serves. Instance A serves a {@link KvTable} in a RAM
 * block; {@link KvLoad}'s clients write to it continuously; A's block migrates live to instance B over the soft
 * provider (RDMA verbs emulated over loopback TCP); at the switchover A stops accepting writes and the clients are
 * moved to B, which refuses them until its copy of the block is whole and then serves it; finally every
 * acknowledged write is read back from B.
 *
 * <p>Both instances run in this JVM, each with its own HTTP server, its own block and its own migration endpoint
 * (source and destination controllers with their own event loops), talking over loopback sockets only: what
 * crosses from A to B is the migration stream and nothing else. A second process would change the orchestration,
 * not the service.
 *
 * <p>Auto-converge is on: when the clients dirty pages faster than the rounds send them, the source throttles A
 * ({@link KvServer#throttle}), as QEMU slows a guest's vCPUs.
 *
 * <p>The table never marks the pages it writes: the source tracks them with the kernel's help
 * ({@link DirtyTrackingMode#AUTO}: userfaultfd write-protection, else soft-dirty bits). Where neither works the
 * gate says why and the table marks its writes through the block's dirty bitmap ({@code explicit}), the one way
 * left; {@link Result#dirtyTracking()} says which.
 */
public final class KvShowcase {

    /** The block's size: 128 Ki slots of 256 bytes. */
    public static final long TABLE_BYTES = 32L << 20;
    /** Clients. */
    public static final int CLIENTS = 4;
    /** Keys per client. */
    public static final int KEYS_PER_CLIENT = 2000;
    /** Writes acknowledged by A before the migration starts, and by B after it. */
    public static final long WRITES_BEFORE = 2000;
    /** Writes acknowledged by B after the switchover before the clients stop. */
    public static final long WRITES_AFTER = 500;
    /** The longest any step waits. */
    public static final Duration TIMEOUT = Duration.ofSeconds(60);

    private KvShowcase() {
    }

    /**
     * What one run found.
     *
     * @param dirtyTracking the source's dirty tracking and why, for example
     *        {@code "dirty tracking: uffd-wp (auto: available)"}
     * @param marksWrites whether the table had to mark its writes (explicit mode)
     * @param migration the source's final {@code query-migrate}
     * @param downtimeLimitMillis the limit the migration ran with
     * @param load what the clients did
     * @param check what reading every acknowledged key back from B found
     * @param writesOnA writes A acknowledged
     * @param writesOnB writes B acknowledged
     */
    public record Result(String dirtyTracking, boolean marksWrites, MigrationInfo migration, long downtimeLimitMillis,
            KvLoad.Report load, KvLoad.Check check, long writesOnA, long writesOnB) {

        /**
         * The downtime the source measured (QEMU's {@code downtime}: from the pause to the destination's close).
         *
         * @return ms
         */
        public long downtimeMillis() {
            return migration.downtime().orElseThrow();
        }

        /**
         * The longest pause a client saw: its first try of a write to its acknowledgement, over the switchover.
         *
         * @return ms
         */
        public long clientPauseMillis() {
            return load.longestPauseNanos() / 1_000_000;
        }

        /**
         * The report, one fact a line.
         *
         * @return the lines
         */
        public List<String> lines() {
            return List.of(
                    dirtyTracking + (marksWrites ? "; the table marks its writes" : "; the table marks nothing"),
                    "migrated " + (migration.ram().total() >> 20) + " MiB live: "
                            + migration.status().qmpName() + " in " + migration.totalTime().orElseThrow() + " ms, "
                            + migration.ram().dirtySyncCount() + " dirty syncs, downtime "
                            + downtimeMillis() + " ms (limit " + downtimeLimitMillis + " ms)",
                    "clients: " + load.writes() + " writes acknowledged (A " + writesOnA + ", B " + writesOnB + "), "
                            + load.retries() + " retried, longest pause seen " + clientPauseMillis() + " ms",
                    "check: " + check.checked() + " keys read back from B, " + check.lost() + " lost, "
                            + check.stale() + " stale" + check.firstProblem().map(p -> " (first: " + p + ")")
                            .orElse(""));
        }
    }

    /**
     * Runs the showcase once with QEMU's default parameters (300 ms downtime limit, 128 MiB/s).
     *
     * @param seed the clients' keys
     * @return what it found
     * @throws Exception if a step fails or times out
     */
    public static Result run(long seed) throws Exception {
        return run(seed, MigrationParameters.DEFAULTS);
    }

    /**
     * Runs the showcase once.
     *
     * @param seed the clients' keys
     * @param parameters the migration's parameters
     * @return what it found
     * @throws Exception if a step fails or times out
     */
    public static Result run(long seed, MigrationParameters parameters) throws Exception {
        RdmaDeviceFactory soft = RdmaDeviceFactory.named("soft");
        boolean marksWrites = DirtyTracking.best() == DirtyTrackingMode.EXPLICIT;
        try (RamBlocks memoryA = RamBlocks.of(List.of(RamBlock.allocate("kv", TABLE_BYTES, 0)));
                RamBlocks memoryB = RamBlocks.of(List.of(RamBlock.allocate("kv", TABLE_BYTES, 0)));
                KvServer a = KvServer.start("A", new KvTable(memoryA.get(0), marksWrites, KvTable.State.SERVING));
                KvServer b = KvServer.start("B", new KvTable(memoryB.get(0), false, KvTable.State.WAITING));
                KvLoad load = new KvLoad(CLIENTS, KEYS_PER_CLIENT, a.address(), seed);
                DestinationController destination = DestinationController.builder().devices(soft).blocks(memoryB)
                        .timeout(TIMEOUT).build();
                SourceController source = SourceController.builder(memoryA).devices(soft).timeout(TIMEOUT)
                        .dirtyTracking(DirtyTrackingMode.AUTO).workload(switchover(a, b, load)).build()) {
            source.setParameters(parameters);
            // A service that writes faster than the link drains never fits the limit: let the source slow it.
            source.setCapability(MigrationCapability.AUTO_CONVERGE, true);
            InetSocketAddress incoming = destination.listen(MigrationUri.parse("rdma:127.0.0.1:0"));
            // B serves the moment its copy is whole, before A's side has even seen the destination's close.
            Mono<Void> bServing = destination.completion().doOnNext(arrived -> b.table().serve()).then().cache();
            bServing.subscribe(null, error -> { });

            load.start();
            load.awaitWrites(WRITES_BEFORE, TIMEOUT);
            MigrationInfo last = source.migrate(new MigrationUri("127.0.0.1", incoming.getPort())).blockLast(TIMEOUT);
            bServing.block(TIMEOUT);
            load.awaitWrites(load.writes() + WRITES_AFTER, TIMEOUT);
            KvLoad.Report report = load.stop();

            KvLoad.Check check = load.check(b.address(), report.acknowledged());
            return new Result(source.dirtyTracking(), marksWrites, last, parameters.downtimeLimit(), report, check,
                    a.stored(), b.stored());
        }
    }

    /** The service as the migration sees it: the pause stops A's writes and sends the clients to B. */
    private static Workload switchover(KvServer a, KvServer b, KvLoad load) {
        return new Workload() {
            @Override
            public Mono<Void> pause() {
                return Mono.fromRunnable(() -> {
                    a.table().pause();
                    load.switchTo(b.address());
                });
            }

            @Override
            public Mono<Disposable> holdWrites() {
                // Soft-dirty's harvests (a kernel without uffd-wp): the clients' writes wait a moment; nobody moves.
                return Mono.fromSupplier(() -> {
                    Runnable release = a.table().holdWrites();
                    return release::run;
                });
            }

            @Override
            public void throttle(int percent) {
                a.throttle(percent);
            }

            @Override
            public void resume() {
                // The migration failed after the pause: A serves on and the clients come back.
                load.switchTo(a.address());
                a.table().serve();
            }
        };
    }

    /**
     * Runs the showcase and prints what it found; with {@code --runs N}, runs it N times (seeds 1 to N) and prints
     * one line per run, then the distributions of the downtime and of the pause the clients saw.
     *
     * @param args none, or {@code --runs N}
     * @throws Exception if a step fails
     */
    public static void main(String[] args) throws Exception {
        if (args.length == 2 && args[0].equals("--runs")) {
            int runs = Integer.parseInt(args[1]);
            List<Result> results = new ArrayList<>();
            for (int i = 1; i <= runs; i++) {
                Result result = run(i);
                results.add(result);
                System.out.println("run " + i + ": downtime " + result.downtimeMillis() + " ms, client pause "
                        + result.clientPauseMillis() + " ms, " + result.migration().ram().dirtySyncCount()
                        + " dirty syncs, " + result.check().lost() + " lost, " + result.check().stale() + " stale");
            }
            long limit = MigrationParameters.DEFAULT_DOWNTIME_LIMIT;
            System.out.println(results.getFirst().dirtyTracking());
            System.out.println(distribution("downtime", results.stream().mapToLong(Result::downtimeMillis).toArray(),
                    limit));
            System.out.println(distribution("client pause", results.stream().mapToLong(Result::clientPauseMillis)
                    .toArray(), limit));
            long broken = results.stream().filter(r -> r.check().lost() + r.check().stale() > 0).count();
            System.out.println("runs with a lost or stale write: " + broken + " of " + runs);
            System.exit(broken > 0 ? 1 : 0);
        }
        if (args.length != 0) {
            System.err.println("usage: KvShowcase [--runs N]");
            System.exit(2);
        }
        Result result = run(1);
        result.lines().forEach(System.out::println);
        if (result.check().lost() + result.check().stale() > 0) {
            System.exit(1);
        }
    }

    /**
     * One line: min, median, p95 (nearest rank), max, and how many are over a limit.
     *
     * @param name what was measured
     * @param millis the values, ms
     * @param limitMillis the limit
     * @return for example {@code "downtime ms: min 120, median 180, p95 260, max 290; over 300 ms: 0 of 20"}
     */
    static String distribution(String name, long[] millis, long limitMillis) {
        long[] sorted = millis.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        long median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        long p95 = sorted[(int) Math.ceil(0.95 * n) - 1];
        long over = Arrays.stream(sorted).filter(value -> value > limitMillis).count();
        return name + " ms: min " + sorted[0] + ", median " + median + ", p95 " + p95 + ", max " + sorted[n - 1]
                + "; over " + limitMillis + " ms: " + over + " of " + n;
    }
}
