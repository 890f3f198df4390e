package io.livemig.transport.rdma.unix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class EpollTest {

    private static final long DATA = 0x1234_5678_9abc_def0L;

    private Epoll epoll;
    private EventFd eventFd;
    private EpollEventArray events;

    @BeforeEach
    void open() throws Exception {
        epoll = Epoll.open();
        eventFd = EventFd.open();
        events = new EpollEventArray(8);
    }

    @AfterEach
    void close() {
        epoll.close();
        eventFd.close();
        events.close();
    }

    @Test
    void waitReturnsTheRegisteredDataOfAReadyFd() throws Exception {
        epoll.add(eventFd.fd(), Epoll.EPOLLIN, DATA);
        eventFd.signal();

        assertThat(epoll.wait(events, -1)).isEqualTo(1);
        assertThat(events.data(0)).isEqualTo(DATA);
        assertThat(events.events(0)).isEqualTo(Epoll.EPOLLIN);
    }

    @Test
    void waitHonoursTheTimeoutWhenNothingIsReady() throws Exception {
        epoll.add(eventFd.fd(), Epoll.EPOLLIN, DATA);

        assertThat(epoll.wait(events, 0)).isZero();
        assertThat(epoll.wait(events, 10)).isZero();
    }

    @Test
    void levelTriggeredReportsUntilDrained() throws Exception {
        epoll.add(eventFd.fd(), Epoll.EPOLLIN, DATA);
        eventFd.signal();

        assertThat(epoll.wait(events, 0)).isEqualTo(1);
        assertThat(epoll.wait(events, 0)).isEqualTo(1);
        eventFd.drain();
        assertThat(epoll.wait(events, 0)).isZero();
    }

    @Test
    void edgeTriggeredReportsEachSignalOnce() throws Exception {
        epoll.add(eventFd.fd(), Epoll.EPOLLIN | Epoll.EPOLLET, DATA);
        eventFd.signal();

        assertThat(epoll.wait(events, 0)).isEqualTo(1);
        assertThat(epoll.wait(events, 0)).isZero();
        eventFd.signal();
        assertThat(epoll.wait(events, 0)).isEqualTo(1);
    }

    @Test
    void signalFromAnotherThreadWakesABlockedWait() throws Exception {
        epoll.add(eventFd.fd(), Epoll.EPOLLIN, DATA);
        CompletableFuture<Long> woken = new CompletableFuture<>();
        Thread waiter = new Thread(() -> {
            try {
                int ready = epoll.wait(events, -1);
                woken.complete(ready == 1 ? events.data(0) : -ready);
            } catch (Throwable e) {
                woken.completeExceptionally(e);
            }
        }, "epoll-waiter");
        waiter.setDaemon(true);
        waiter.start();

        eventFd.signal();

        // The bound only keeps a regression from hanging the build; it is not a timing assertion.
        assertThat(woken.get(30, TimeUnit.SECONDS)).isEqualTo(DATA);
        waiter.join();
    }

    @Test
    void modifyReplacesTheData() throws Exception {
        epoll.add(eventFd.fd(), Epoll.EPOLLIN, DATA);
        epoll.modify(eventFd.fd(), Epoll.EPOLLIN, 7L);
        eventFd.signal();

        assertThat(epoll.wait(events, -1)).isEqualTo(1);
        assertThat(events.data(0)).isEqualTo(7L);
    }

    @Test
    void removeStopsDelivery() throws Exception {
        epoll.add(eventFd.fd(), Epoll.EPOLLIN, DATA);
        epoll.remove(eventFd.fd());
        eventFd.signal();

        assertThat(epoll.wait(events, 0)).isZero();
    }

    @Test
    void reportsOnlyAsManyEventsAsTheArrayHolds() throws Exception {
        try (EventFd second = EventFd.open(); EpollEventArray one = new EpollEventArray(1)) {
            epoll.add(eventFd.fd(), Epoll.EPOLLIN, 1L);
            epoll.add(second.fd(), Epoll.EPOLLIN, 2L);
            eventFd.signal();
            second.signal();

            assertThat(epoll.wait(one, 0)).isEqualTo(1);
            assertThat(epoll.wait(events, 0)).isEqualTo(2);
            assertThat(new long[] {events.data(0), events.data(1)}).containsExactlyInAnyOrder(1L, 2L);
        }
    }

    @Test
    void addingABadFdFailsWithEbadf() {
        assertThatThrownBy(() -> epoll.add(99_999, Epoll.EPOLLIN, DATA))
                .isInstanceOfSatisfying(NativeIoException.class, e -> {
                    assertThat(e.errno()).isEqualTo(Errno.EBADF);
                    assertThat(e.call()).isEqualTo("epoll_ctl");
                })
                .hasMessage("epoll_ctl failed: EBADF (Bad file descriptor)");
    }

    @Test
    void addingTwiceFailsWithEexist() throws Exception {
        epoll.add(eventFd.fd(), Epoll.EPOLLIN, DATA);

        assertThatThrownBy(() -> epoll.add(eventFd.fd(), Epoll.EPOLLIN, DATA))
                .hasMessage("epoll_ctl failed: EEXIST (File exists)");
    }

    @Test
    void modifyingAnUnwatchedFdFailsWithEnoent() {
        assertThatThrownBy(() -> epoll.modify(eventFd.fd(), Epoll.EPOLLIN, DATA))
                .hasMessage("epoll_ctl failed: ENOENT (No such file or directory)");
    }

    @Test
    void closeIsIdempotentAndLaterCallsFailWithEbadf() {
        epoll.close();
        epoll.close();

        assertThat(epoll.fd()).isEqualTo(-1);
        assertThatThrownBy(() -> epoll.add(eventFd.fd(), Epoll.EPOLLIN, DATA))
                .hasMessage("epoll_ctl failed: EBADF (Bad file descriptor)");
        assertThatThrownBy(() -> epoll.wait(events, 0))
                .hasMessage("epoll_wait failed: EBADF (Bad file descriptor)");
    }

    @Test
    void openingAndClosingLeaksNoFds() throws Exception {
        int before = FileDescriptors.openFileDescriptorCount();

        for (int i = 0; i < 1000; i++) {
            Epoll.open().close();
        }

        assertThat(FileDescriptors.openFileDescriptorCount()).isEqualTo(before);
    }
}
