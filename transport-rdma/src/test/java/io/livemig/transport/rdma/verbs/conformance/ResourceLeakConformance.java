package io.livemig.transport.rdma.verbs.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.transport.rdma.unix.FileDescriptors;
import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.CmEventType;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import io.livemig.transport.rdma.verbs.QpState;
import io.livemig.transport.rdma.verbs.ReceiveWorkRequest;
import io.livemig.transport.rdma.verbs.ScatterGatherElement;
import io.livemig.transport.rdma.verbs.SendWorkRequest;
import io.livemig.transport.rdma.verbs.VerbsException;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * Closing a device releases everything: file descriptors, threads, registrations. Providers name the threads they
 * start with {@link #threadPrefix()}.
 */
public abstract class ResourceLeakConformance extends VerbsConformanceBase {

    /**
     * The name prefix of every thread the provider starts.
     *
     * @return the prefix
     */
    protected abstract String threadPrefix();

    @Test
    void closingDevicesReleasesFileDescriptorsThreadsAndRegistrations() throws Exception {
        // Warm up once, so lazily opened JDK descriptors (selector providers, /dev/urandom) are not counted.
        Connection warmUp = connect();
        warmUp.client().close();
        warmUp.server().close();
        awaitTrue(() -> providerThreads().isEmpty(), "threads of earlier connections to end");
        int fdsBefore = FileDescriptors.openFileDescriptorCount();

        Connection c = connect();
        MemoryRegion target = c.server().register(arena, 1 << 20, Set.of(AccessFlag.LOCAL_WRITE,
                AccessFlag.REMOTE_WRITE));
        MemoryRegion source = c.client().register(arena, 1 << 20, Set.of(AccessFlag.LOCAL_WRITE));
        c.server().qp().postReceive(ReceiveWorkRequest.of(1, ScatterGatherElement.of(target, 0, 64)));
        c.client().qp().postSend(SendWorkRequest.rdmaWrite(1, List.of(ScatterGatherElement.of(source, 0, 1 << 20)),
                target.address(), target.rkey()));
        c.client().await(c.client().sendCq(), 1);
        assertThat(providerThreads()).isNotEmpty();
        assertThat(FileDescriptors.openFileDescriptorCount()).isGreaterThan(fdsBefore);

        // Close without disconnecting first: the device must clean up after a careless owner.
        c.client().close();
        c.server().close();
        fixture().close();

        assertThat(target.isRegistered()).isFalse();
        assertThat(source.isRegistered()).isFalse();
        assertThat(c.client().qp().state()).isEqualTo(QpState.ERR);
        awaitTrue(() -> providerThreads().isEmpty(), "provider threads to end, alive: " + providerThreads());
        awaitTrue(() -> FileDescriptors.openFileDescriptorCount() == fdsBefore, "fd count to return to " + fdsBefore
                + ", now " + FileDescriptors.openFileDescriptorCount());
    }

    @Test
    void closeIsIdempotentAndSafeFromAnotherThread() throws Exception {
        Connection c = connect();
        Thread closer = Thread.ofPlatform().start(() -> {
            c.client().id().close();
            c.client().close();
        });
        c.client().close();
        closer.join(Side.WAIT.toMillis());
        c.client().close();

        assertThat(closer.isAlive()).isFalse();
        awaitEvent(c.server(), CmEventType.DISCONNECTED);
    }

    @Test
    void everyProviderThreadIsANamedDaemon() throws VerbsException {
        connect();

        assertThat(providerThreads()).isNotEmpty().allMatch(Thread::isDaemon);
    }

    private List<Thread> providerThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.getName().startsWith(threadPrefix()) && thread.isAlive())
                .toList();
    }

    /** Waits for a condition that a close makes true asynchronously (threads exit after their sockets close). */
    private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Side.WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(10);
        }
    }
}
