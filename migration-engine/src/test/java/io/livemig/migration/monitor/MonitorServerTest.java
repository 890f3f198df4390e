package io.livemig.migration.monitor;

import static java.nio.file.attribute.PosixFilePermission.OWNER_READ;
import static java.nio.file.attribute.PosixFilePermission.OWNER_WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server's life: sockets and their files, its event loop, and many clients on one loop thread. */
class MonitorServerTest {

    private static final String BANNER_LINE = HmpSession.BANNER + "\n";
    private static final String PROMPT = HmpMonitor.PROMPT;
    private static final String CANCEL_HELP = "migrate_cancel -- cancel the current VM migration\n";
    private static final String RUNNING = "{\"return\": {\"status\": \"running\", \"singlestep\": false,"
            + " \"running\": true}";

    private final MigrationPair pair = new MigrationPair();

    @TempDir
    Path dir;

    @AfterEach
    void close() throws Exception {
        pair.close();
    }

    private List<Path> files() throws IOException {
        try (Stream<Path> listing = Files.list(dir)) {
            return listing.toList();
        }
    }

    @Test
    void aTcpMonitorWithoutAHostListensOnLoopbackOnly() throws Exception {
        try (MonitorServer server = MonitorServer.qmp("tcp:0", pair.sourceTarget)) {
            assertThat(server.address()).matches("tcp:127\\.0\\.0\\.1:[1-9][0-9]*");
            try (MonitorClient client = new MonitorClient(server.address())) {
                assertThat(client.next()).isEqualTo(QmpServerTest.GREETING);
            }
        }
    }

    @Test
    void closeIsIdempotentAndShutsDownItsOwnEventLoop() throws Exception {
        MonitorServer server = MonitorServer.qmp("tcp:127.0.0.1:0", pair.sourceTarget);
        EventLoopGroup group = server.group();
        try (MonitorClient client = new MonitorClient(server.address())) {
            assertThat(client.next()).isEqualTo(QmpServerTest.GREETING);
            server.close();
            assertThat(group.isTerminated()).isTrue();
            assertThat(client.next()).isEqualTo(MonitorClient.EOF);
            server.close();
        }
        assertThatThrownBy(() -> new MonitorClient(server.address())).isInstanceOf(IOException.class);
    }

    @Test
    void aLentEventLoopServesSeveralServersAndIsLeftRunning() throws Exception {
        EventLoopGroup lent = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            try (MonitorServer hmp = MonitorServer.hmp("tcp:127.0.0.1:0", pair.sourceTarget, lent);
                    MonitorServer qmp = MonitorServer.qmp("unix:" + dir.resolve("qmp.sock"), pair.sourceTarget, lent);
                    MonitorClient human = new MonitorClient(hmp.address());
                    MonitorClient machine = new MonitorClient(qmp.address())) {
                assertThat(hmp.group()).isSameAs(lent);
                assertThat(human.nextRaw()).isEqualTo(BANNER_LINE);
                assertThat(machine.next()).isEqualTo(QmpServerTest.GREETING);
            }
            assertThat(lent.isShuttingDown()).isFalse();
            assertThat(files()).isEmpty();
        } finally {
            lent.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void createsTheUnixSocketFileForItsOwnerOnlyAndRemovesItAtClose() throws Exception {
        Path path = dir.resolve("hmp.sock");
        MonitorServer server = MonitorServer.hmp("unix:" + path, pair.sourceTarget);
        try (server; MonitorClient client = new MonitorClient(server.address())) {
            assertThat(client.nextRaw()).isEqualTo(BANNER_LINE);
            assertThat(Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther())
                    .isTrue();
            assertThat(Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS))
                    .containsExactlyInAnyOrder(OWNER_READ, OWNER_WRITE);
            // The private directory the socket was bound in is gone once it is in place.
            assertThat(files()).containsExactly(path);
        }
        assertThat(path).doesNotExist();
        assertThat(files()).isEmpty();
    }

    @Test
    void aSocketPathNearTheLengthLimitIsBoundInPlaceStillOwnerOnly() throws Exception {
        // A parent this long leaves room for a short socket name but not for the private staging directory.
        Path parent = dir.resolve("d".repeat(Math.max(1, 100 - dir.toString().length())));
        Files.createDirectory(parent);
        Path path = parent.resolve("q");
        assumeTrue(path.toString().length() <= 107, "the temporary directory's path is too long to test this");
        MonitorServer server = MonitorServer.qmp("unix:" + path, pair.sourceTarget);
        try (server; MonitorClient client = new MonitorClient(server.address())) {
            assertThat(client.next()).isEqualTo(QmpServerTest.GREETING);
            assertThat(Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS))
                    .containsExactlyInAnyOrder(OWNER_READ, OWNER_WRITE);
        }
        assertThat(path).doesNotExist();
    }

    @Test
    void aFailedStartLeavesNothingBehind() throws Exception {
        Path path = dir.resolve("data");
        Files.writeString(path, "keep me");
        assertThatThrownBy(() -> MonitorServer.hmp("unix:" + path, pair.sourceTarget))
                .isInstanceOf(UncheckedIOException.class)
                .hasMessage("cannot listen on unix:" + path + ": Address already in use");
        assertThat(files()).containsExactly(path);
        assertThat(path).hasContent("keep me");

        try (ServerSocketChannel taken = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
            int port = ((InetSocketAddress) taken.getLocalAddress()).getPort();
            assertThatThrownBy(() -> MonitorServer.qmp("tcp:127.0.0.1:" + port, pair.sourceTarget))
                    .isInstanceOf(UncheckedIOException.class)
                    .hasMessageStartingWith("cannot listen on tcp:127.0.0.1:" + port + ": ");
        }
    }

    @Test
    void servesManyClientsAtOnceEachInItsOwnOrder() throws Exception {
        int clients = 48;
        int requests = 20;
        List<Future<List<String>>> results = new ArrayList<>();
        try (MonitorServer server = MonitorServer.qmp("unix:" + dir.resolve("qmp.sock"), pair.sourceTarget);
                ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int c = 0; c < clients; c++) {
                int client = c;
                results.add(threads.submit(() -> {
                    try (MonitorClient qmp = new MonitorClient(server.address())) {
                        assertThat(qmp.next()).isEqualTo(QmpServerTest.GREETING);
                        StringBuilder batch = new StringBuilder("{\"execute\": \"qmp_capabilities\"}");
                        for (int r = 0; r < requests; r++) {
                            batch.append("{\"execute\": \"query-status\", \"id\": \"").append(client).append('-')
                                    .append(r).append("\"}");
                        }
                        qmp.send(batch.toString());
                        List<String> answers = new ArrayList<>();
                        for (int r = 0; r <= requests; r++) {
                            answers.add(qmp.next());
                        }
                        return answers;
                    }
                }));
            }
            for (int c = 0; c < clients; c++) {
                List<String> answers = results.get(c).get(MigrationPair.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                assertThat(answers.getFirst()).isEqualTo(QmpServerTest.OK);
                for (int r = 0; r < requests; r++) {
                    assertThat(answers.get(r + 1)).isEqualTo(RUNNING + ", \"id\": \"" + c + "-" + r + "\"}");
                }
            }
        }
    }

    @Test
    void aClientThatSendsFasterThanItsCommandsRunGetsEveryAnswerInOrder() throws Exception {
        // More than one read's worth in one write: reading pauses while a batch runs, then resumes.
        int requests = 5_000;
        try (MonitorServer server = MonitorServer.hmp("tcp:127.0.0.1:0", pair.sourceTarget);
                MonitorClient client = new MonitorClient(server.address())) {
            assertThat(client.nextRaw()).isEqualTo(BANNER_LINE);
            client.send("help migrate_cancel\n".repeat(requests));
            for (int r = 0; r < requests; r++) {
                assertThat(client.nextRaw()).isEqualTo(PROMPT + CANCEL_HELP);
            }
        }
    }

    @Test
    void aBlockingCommandHoldsOnlyItsOwnSession() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        MigrationTarget slow = new ForwardingTarget(pair.sourceTarget) {
            @Override
            public void cancel() {
                entered.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                super.cancel();
            }
        };
        try (MonitorServer server = MonitorServer.hmp("tcp:127.0.0.1:0", slow);
                MonitorClient blocked = new MonitorClient(server.address());
                MonitorClient other = new MonitorClient(server.address())) {
            assertThat(blocked.nextRaw()).isEqualTo(BANNER_LINE);
            assertThat(other.nextRaw()).isEqualTo(BANNER_LINE);
            blocked.send("migrate_cancel\nhelp migrate_cancel\n");
            assertThat(entered.await(MigrationPair.TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
            // The server's one event-loop thread is free: another client is served meanwhile.
            other.send("help migrate_cancel\n");
            assertThat(other.nextRaw()).isEqualTo(PROMPT + CANCEL_HELP);
            // The blocked session's next command waits for the one before it.
            assertThat(blocked.pollRaw(Duration.ofMillis(200))).isNull();
            release.countDown();
            assertThat(blocked.nextRaw()).isEqualTo(PROMPT + PROMPT + CANCEL_HELP);
        } finally {
            release.countDown();
        }
    }

    @Test
    void quitMayCloseTheServerFromTheCommandItself() throws Exception {
        AtomicReference<MonitorServer> self = new AtomicReference<>();
        MigrationTarget closing = new ForwardingTarget(pair.sourceTarget) {
            @Override
            public void quit() {
                // What a process does when its monitor says quit: close everything, the monitor included.
                self.get().close();
            }
        };
        MonitorServer server = MonitorServer.qmp("tcp:127.0.0.1:0", closing);
        self.set(server);
        try (server; MonitorClient client = new MonitorClient(server.address())) {
            assertThat(client.next()).isEqualTo(QmpServerTest.GREETING);
            assertThat(client.execute("{\"execute\": \"qmp_capabilities\"}")).isEqualTo(QmpServerTest.OK);
            assertThat(client.execute("{\"execute\": \"quit\"}")).isEqualTo(QmpServerTest.OK);
            assertThat(client.nextEvent()).contains("\"event\": \"SHUTDOWN\"");
            assertThat(client.next()).isEqualTo(MonitorClient.EOF);
            MigrationPair.await(() -> server.group().isTerminated() ? true : null, "the monitor's event loop to stop");
        }
    }
}
