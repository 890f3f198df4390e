package io.livemig.transport.rdma.channel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.livemig.transport.rdma.unix.FileDescriptors;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The event loop without channels: it blocks in epoll (no spinning budget), yet runs tasks handed to it from other
 * threads (the eventfd wakeup) and scheduled tasks (the epoll timeout), and gives its descriptors back on shutdown.
 */
class RdmaIoHandlerTest {

    @Test
    void blockedLoopRunsTasksFromOtherThreadsAndScheduledTasks() throws Exception {
        int fdsBefore = FileDescriptors.openFileDescriptorCount();
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, RdmaIoHandler.newFactory(0));
        try {
            EventLoop loop = group.next();
            for (int i = 0; i < 100; i++) {
                assertThat(loop.submit(() -> 42).get(10, TimeUnit.SECONDS)).isEqualTo(42);
            }
            assertThat(loop.schedule(() -> "later", 20, TimeUnit.MILLISECONDS).get(10, TimeUnit.SECONDS))
                    .isEqualTo("later");
        } finally {
            assertThat(group.shutdownGracefully(0, 5, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(FileDescriptors.openFileDescriptorCount()).isLessThanOrEqualTo(fdsBefore);
    }

    /**
     * Two threads hand the blocked loop tasks as fast as it runs them. A wakeup that races the loop's draining of
     * its eventfd must not be lost: a lost one leaves the loop asleep with a task queued, as nothing else (no
     * channel, no scheduled task) would wake it, and the wait below fails.
     */
    @Test
    @org.junit.jupiter.api.Timeout(120)
    void wakeupsRacingTheDrainOfTheEventfdAreNeverLost() throws Exception {
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, RdmaIoHandler.newFactory(0));
        try {
            EventLoop loop = group.next();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Runnable submitter = () -> {
                try {
                    for (int i = 0; i < 20_000 && failure.get() == null; i++) {
                        loop.submit(() -> { }).get(10, TimeUnit.SECONDS);
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            };
            Thread first = Thread.ofPlatform().start(submitter);
            Thread second = Thread.ofPlatform().start(submitter);
            first.join();
            second.join();
            assertThat(failure.get()).as("a task handed to the loop was not run within 10 s").isNull();
        } finally {
            assertThat(group.shutdownGracefully(0, 5, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void acceptsOnlyRdmaHandles() throws Exception {
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, RdmaIoHandler.newFactory());
        try {
            assertThat(group.isCompatible(RdmaIoHandle.class)).isTrue();
            assertThat(group.isCompatible(NioIoHandle.class)).isFalse();
        } finally {
            group.shutdownGracefully(0, 5, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void rejectsANegativeSpinBudget() {
        assertThatThrownBy(() -> RdmaIoHandler.newFactory(-1)).isInstanceOf(IllegalArgumentException.class);
    }
}
