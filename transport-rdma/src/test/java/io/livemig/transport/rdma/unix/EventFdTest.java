package io.livemig.transport.rdma.unix;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class EventFdTest {

    private static final int O_CLOEXEC = 0x80000;

    @Test
    void isNonBlockingAndCloseOnExec() throws Exception {
        try (EventFd eventFd = EventFd.open()) {
            assertThat(ProcSelf.flags(eventFd.fd()) & (Libc.O_NONBLOCK | O_CLOEXEC))
                    .isEqualTo(Libc.O_NONBLOCK | O_CLOEXEC);
        }
    }

    @Test
    void startsUnreadable() throws Exception {
        try (EventFd eventFd = EventFd.open()) {
            assertThat(FileDescriptors.poll(eventFd.fd(), FileDescriptors.POLLIN, 0)).isZero();
            assertThat(eventFd.drain()).isZero();
        }
    }

    @Test
    void signalMakesItReadable() throws Exception {
        try (EventFd eventFd = EventFd.open()) {
            eventFd.signal();

            assertThat(FileDescriptors.poll(eventFd.fd(), FileDescriptors.POLLIN, 0)).isEqualTo(FileDescriptors.POLLIN);
        }
    }

    @Test
    void drainReturnsTheSignalCountAndResets() throws Exception {
        try (EventFd eventFd = EventFd.open()) {
            eventFd.signal();
            eventFd.signal();
            eventFd.signal();

            assertThat(eventFd.drain()).isEqualTo(3);
            assertThat(FileDescriptors.poll(eventFd.fd(), FileDescriptors.POLLIN, 0)).isZero();
            assertThat(eventFd.drain()).isZero();
        }
    }

    @Test
    void closeIsIdempotentAndHidesTheFd() throws Exception {
        EventFd eventFd = EventFd.open();

        eventFd.close();
        eventFd.close();

        assertThat(eventFd.isOpen()).isFalse();
        assertThat(eventFd.fd()).isEqualTo(-1);
    }

    @Test
    void signalAndDrainAfterCloseDoNothing() throws Exception {
        EventFd eventFd = EventFd.open();
        eventFd.close();

        eventFd.signal();

        assertThat(eventFd.drain()).isZero();
    }

    @Test
    void closeWhileOtherThreadsSignalThrowsNothing() throws Exception {
        int threads = 4;
        for (int round = 0; round < 20; round++) {
            EventFd eventFd = EventFd.open();
            Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
            CountDownLatch signalling = new CountDownLatch(threads);
            List<Thread> signallers = startSignallers(eventFd, threads, 2_000, signalling, failures);

            signalling.await();
            eventFd.close();
            joinAll(signallers);

            assertThat(failures).isEmpty();
            assertThat(eventFd.isOpen()).isFalse();
            assertThat(eventFd.fd()).isEqualTo(-1);
        }
    }

    @Test
    void lateSignalsNeverReachTheNextOwnerOfTheFdNumber() throws Exception {
        int threads = 4;
        for (int round = 0; round < 20; round++) {
            EventFd victim = EventFd.open();
            Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
            CountDownLatch signalling = new CountDownLatch(threads);
            List<Thread> signallers = startSignallers(victim, threads, 2_000, signalling, failures);

            signalling.await();
            victim.close();
            // Usually handed the number the victim just released; the signallers are still running.
            try (EventFd successor = EventFd.open()) {
                joinAll(signallers);

                assertThat(successor.drain()).isZero();
            }
            assertThat(failures).isEmpty();
        }
    }

    @Test
    void openingAndClosingLeaksNoFds() throws Exception {
        int before = FileDescriptors.openFileDescriptorCount();

        for (int i = 0; i < 1000; i++) {
            EventFd eventFd = EventFd.open();
            eventFd.signal();
            eventFd.close();
        }

        assertThat(before).isPositive();
        assertThat(FileDescriptors.openFileDescriptorCount()).isEqualTo(before);
    }

    private static List<Thread> startSignallers(EventFd eventFd, int threads, int signalsEach,
            CountDownLatch signalling, Queue<Throwable> failures) {
        List<Thread> signallers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread thread = new Thread(() -> {
                try {
                    try {
                        eventFd.signal();
                    } finally {
                        signalling.countDown();
                    }
                    for (int i = 1; i < signalsEach; i++) {
                        eventFd.signal();
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, "signaller-" + t);
            thread.setDaemon(true);
            thread.start();
            signallers.add(thread);
        }
        return signallers;
    }

    private static void joinAll(List<Thread> threads) throws InterruptedException {
        for (Thread thread : threads) {
            // A bound so a regression fails the test instead of hanging the build; not a timing assertion.
            thread.join(TimeUnit.SECONDS.toMillis(30));
            assertThat(thread.isAlive()).as("%s finished", thread.getName()).isFalse();
        }
    }
}
