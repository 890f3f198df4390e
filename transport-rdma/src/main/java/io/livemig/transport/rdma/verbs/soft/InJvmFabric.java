package io.livemig.transport.rdma.verbs.soft;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A fabric inside one JVM. Every frame of every link goes through one FIFO drained by one delivery thread, so a
 * test sees the same interleaving on every run; the thread runs only while links or deliveries exist, so closing
 * the devices leaves no thread behind. Payloads are copied once, from the sender's registered memory straight
 * into the receiver's, while both regions are pinned.
 *
 * <p>Addresses are names in this fabric's own registry: any {@link InetSocketAddress} works, and port 0 picks a
 * free port.
 */
public final class InJvmFabric extends Fabric {

    private static final Duration DEFAULT_ACK_TIMEOUT = Duration.ofMillis(200);

    private final Map<InetSocketAddress, Consumer<Wire>> listeners = new ConcurrentHashMap<>();
    private final AtomicInteger nextPort = new AtomicInteger(40_000);
    private final AtomicLong corruptedPackets = new AtomicLong();
    private final List<InJvmWire> links = new ArrayList<>();
    /** Guarded by {@code this}: pending deliveries in order, each with the time it may run. */
    private final ArrayDeque<Delivery> deliveries = new ArrayDeque<>();
    private Thread deliveryThread;
    private volatile FaultInjector faults = FaultInjector.NONE;

    /** Creates a fabric with a 200 ms local ACK timeout. */
    public InJvmFabric() {
        this(DEFAULT_ACK_TIMEOUT);
    }

    /**
     * Creates a fabric.
     *
     * @param ackTimeout how long a requester waits for an acknowledgement before retransmitting
     */
    public InJvmFabric(Duration ackTimeout) {
        super(ackTimeout);
    }

    @Override
    public String name() {
        return "jvm";
    }


    /**
     * Installs the fault injector consulted for every RC packet from now on.
     *
     * @param injector the injector, {@link FaultInjector#NONE} to deliver everything
     */
    public void faultInjector(FaultInjector injector) {
        this.faults = injector;
    }

    /** Fails every link at once, as a pulled cable would: both ends see their wire go down, queued frames are lost. */
    public void breakLinks() {
        List<InJvmWire> snapshot;
        synchronized (this) {
            snapshot = new ArrayList<>(links);
        }
        for (InJvmWire wire : snapshot) {
            wire.abort();
        }
    }

    /**
     * Moves to the error state the queue pair of every connection end whose local address {@code side} accepts (the
     * listening end's is the address it listens on), as a local failure would: the end flushes its requests, its
     * peer's requests go unanswered until their retries run out.
     *
     * @param side which ends, by local address
     */
    public void failQueuePairs(java.util.function.Predicate<InetSocketAddress> side) {
        List<InJvmWire> snapshot;
        synchronized (this) {
            snapshot = new ArrayList<>(links);
        }
        for (InJvmWire wire : snapshot) {
            if (side.test(wire.localAddress())) {
                wire.failQueuePair();
            }
        }
    }

    /**
     * The number of packets delivered with a bad checksum (and discarded by their receiver).
     *
     * @return the count
     */
    public long corruptedPackets() {
        return corruptedPackets.get();
    }

    @Override
    Listener listen(InetSocketAddress address, Consumer<Wire> onAccepted) throws IOException {
        InetSocketAddress bound = address.getPort() == 0
                ? new InetSocketAddress(address.getAddress(), nextPort.getAndIncrement()) : address;
        if (listeners.putIfAbsent(bound, onAccepted) != null) {
            // As the kernel words it; the caller names the address.
            throw new BindException("Address already in use");
        }
        return new Listener() {
            @Override
            public InetSocketAddress localAddress() {
                return bound;
            }

            @Override
            public void close() {
                listeners.remove(bound, onAccepted);
            }
        };
    }

    @Override
    AutoCloseable connect(InetSocketAddress remote, Duration timeout, ConnectCallback callback) {
        enqueue(0, () -> {
            Consumer<Wire> acceptor = listeners.get(remote);
            if (acceptor == null) {
                callback.refused("nobody listens on " + remote + " in this fabric");
                return;
            }
            InetSocketAddress local = new InetSocketAddress(remote.getAddress(), nextPort.getAndIncrement());
            InJvmWire client = new InJvmWire(this, local, remote);
            InJvmWire server = new InJvmWire(this, remote, local);
            client.pair(server);
            synchronized (this) {
                links.add(client);
                links.add(server);
            }
            acceptor.accept(server);
            callback.connected(client);
        });
        return () -> { };
    }

    FaultInjector faults() {
        return faults;
    }

    void countCorrupted() {
        corruptedPackets.incrementAndGet();
    }

    synchronized void unlink(InJvmWire wire) {
        links.remove(wire);
        notifyAll();
    }

    /** Queues a delivery; starts the delivery thread when it is not running. */
    synchronized void enqueue(long delayNanos, Runnable task) {
        long due = delayNanos == 0 ? 0 : System.nanoTime() + delayNanos;
        deliveries.add(new Delivery(due, task));
        startDelivering();
    }

    /**
     * Queues a task ahead of every pending delivery: a link failure is not a frame and must not wait behind a
     * delayed one (the frames it overtakes are dropped anyway, both ends being down).
     */
    synchronized void enqueueFirst(Runnable task) {
        deliveries.addFirst(new Delivery(0, task));
        startDelivering();
    }

    private void startDelivering() {
        if (deliveryThread == null) {
            deliveryThread = SoftThreads.start("jvm-fabric", this::deliverLoop);
        }
        notifyAll();
    }

    private void deliverLoop() {
        while (true) {
            Delivery next;
            synchronized (this) {
                while (true) {
                    if (links.isEmpty()) {
                        // Delayed frames of links that are gone would be dropped on arrival; don't wait for them.
                        deliveries.removeIf(delivery -> delivery.due() != 0);
                    }
                    next = deliveries.peek();
                    if (next == null) {
                        if (links.isEmpty()) {
                            deliveryThread = null; // idle and nothing connected: exit; enqueue starts a new one
                            return;
                        }
                        waitQuietly(100);
                        continue;
                    }
                    long wait = next.due() == 0 ? 0 : next.due() - System.nanoTime();
                    if (wait <= 0) {
                        deliveries.poll();
                        break;
                    }
                    waitQuietly(Math.max(1, wait / 1_000_000));
                }
            }
            try {
                next.task().run();
            } catch (RuntimeException e) {
                System.getLogger(InJvmFabric.class.getName()).log(System.Logger.Level.ERROR,
                        "in-JVM fabric delivery failed", e);
            }
        }
    }

    private void waitQuietly(long millis) {
        try {
            wait(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Forgets listeners; links close with their devices and the delivery thread then exits by itself. */
    @Override
    public void close() {
        listeners.clear();
        breakLinks();
    }

    private record Delivery(long due, Runnable task) {
    }
}
