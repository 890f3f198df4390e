package io.livemig.transport.rdma.channel;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.transport.rdma.TestProvider;
import io.livemig.transport.rdma.observe.TransportRecorder;
import io.livemig.transport.rdma.unix.FileDescriptors;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import io.livemig.transport.rdma.verbs.conformance.ProviderLimit;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.Parameter;

/**
 * Fixture of the channel tests, which run on every provider, as Netty's transport test permutations do: each test
 * class is a {@code @ParameterizedClass} over {@link TestProvider} (a soft fabric, or the verbs provider on an RDMA
 * device), declared with {@code @ParameterizedClass(name = "[{0}]", allowZeroInvocations = true)} and the
 * {@code @MethodSource} {@code TestProvider#selected} (the rxe scripts find the classes to run over the verbs
 * provider by that line).
 *
 * <p>The provider is injected into {@link #provider}; its {@link ChannelFixture} says how to open devices and where
 * to listen. Zero invocations are allowed because {@code -Dlivemig.test.providers} may select none of a class's
 * providers. After each test the event loops are shut down and the test fails if a file descriptor or a thread
 * (event loop or provider) outlived it.
 */
abstract class RdmaChannelTestBase {

    /** System property that multiplies every wait, for slow hosts (the rxe lab runs under CPU emulation). */
    static final String TIMEOUT_SCALE_PROPERTY = "livemig.test.timeoutScale";
    /** How long a test waits for anything before it fails instead of hanging: 20 s times the scale. */
    static final long WAIT_SECONDS = 20 * Math.max(1, Long.getLong(TIMEOUT_SCALE_PROPERTY, 1));
    private static final String LOOP_THREAD_PREFIX = "rdma-test-loop";
    /** The threads the providers start: the soft provider's fabric threads, the verbs provider's device threads. */
    private static final List<String> PROVIDER_THREAD_PREFIXES = List.of("livemig-soft-", "livemig-verbs-",
            "livemig-disni-");

    static {
        AsynchronousCloseWarmUp.run();
    }

    /** The provider of this invocation of the class. */
    @Parameter
    TestProvider provider;
    private ChannelFixture fixture;
    EventLoopGroup group;
    private final List<Channel> channels = new ArrayList<>();
    private int fdsBefore;
    private Set<String> fdListBefore;

    /** The open descriptors and what they point to, for the message of a leak. */
    private static Set<String> fdList() {
        Set<String> descriptors = new TreeSet<>();
        try (Stream<Path> stream = Files.list(Path.of("/proc/self/fd"))) {
            stream.forEach(fd -> {
                try {
                    descriptors.add(fd.getFileName() + " -> " + Files.readSymbolicLink(fd));
                } catch (IOException e) {
                    // closed while listing (the listing's own descriptor)
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return descriptors;
    }

    private Set<String> newDescriptors() {
        Set<String> now = fdList();
        now.removeAll(fdListBefore);
        return now;
    }

    /** How channels open devices on this invocation's provider. */
    RdmaDeviceFactory devices() {
        return fixture.devices();
    }

    /** Where servers listen (port 0). */
    InetSocketAddress listenAddress() {
        return fixture.listenAddress();
    }

    /** An address where nobody listens, so a connect fails. */
    InetSocketAddress addressNobodyListensOn() throws IOException {
        return fixture.addressNobodyListensOn();
    }

    /**
     * Skips the test, with the reason, when the provider has the limit the test is about.
     *
     * @param limit the limit
     * @param reason why the test cannot run on such a provider
     */
    void assumeNotLimited(ProviderLimit limit, String reason) {
        org.junit.jupiter.api.Assumptions.assumeFalse(fixture.limits().contains(limit),
                provider + " has " + limit + ": " + reason);
    }

    /** Where the loops (and so the channels) report; a test of the recorder overrides it. */
    TransportRecorder recorder() {
        return TransportRecorder.NOOP;
    }

    @BeforeEach
    final void openLoops() throws Exception {
        fixture = ChannelFixture.of(provider);
        // Skips the test, with the provider's reason, when it cannot run here; before anything is counted.
        fixture.assumeAvailable();
        awaitTrue(() -> providerThreads().isEmpty() && threads(LOOP_THREAD_PREFIX).isEmpty(),
                "threads of earlier tests to end");
        fdsBefore = FileDescriptors.openFileDescriptorCount();
        fdListBefore = fdList();
        group = new MultiThreadIoEventLoopGroup(2, new DefaultThreadFactory(LOOP_THREAD_PREFIX),
                RdmaIoHandler.newFactory(RdmaIoHandler.DEFAULT_SPIN_POLLS, recorder()));
    }

    @AfterEach
    final void closeLoopsAndCheckForLeaks() throws Exception {
        if (group == null) {
            if (fixture != null) {
                fixture.close();
            }
            return; // skipped before anything was opened
        }
        for (Channel channel : channels) {
            channel.close();
        }
        assertThat(group.shutdownGracefully(0, 5, TimeUnit.SECONDS).await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
        fixture.close();
        awaitTrue(() -> threads(LOOP_THREAD_PREFIX).isEmpty(), "event-loop threads to end: "
                + threads(LOOP_THREAD_PREFIX));
        awaitTrue(() -> providerThreads().isEmpty(), () -> "provider threads to end: " + providerThreads());
        awaitTrue(() -> FileDescriptors.openFileDescriptorCount() <= fdsBefore, () -> "fd count to return to "
                + fdsBefore + ", now " + FileDescriptors.openFileDescriptorCount() + "; new: " + newDescriptors());
    }

    /** Starts a server on the permutation's fabric; closed after the test. */
    RdmaServerChannel server(ChannelHandler childHandler, Consumer<ServerBootstrap> customize) throws Exception {
        ServerBootstrap bootstrap = new ServerBootstrap().group(group).channel(RdmaServerChannel.class)
                .option(RdmaChannelOption.PROVIDER, devices())
                .childHandler(childHandler);
        customize.accept(bootstrap);
        Channel server = sync(bootstrap.bind(listenAddress()));
        channels.add(server);
        return (RdmaServerChannel) server;
    }

    /** Starts a server that accepts every connection. */
    RdmaServerChannel server(ChannelHandler childHandler) throws Exception {
        return server(childHandler, bootstrap -> { });
    }

    /** A client bootstrap on the permutation's fabric. */
    Bootstrap client(ChannelHandler handler) {
        return new Bootstrap().group(group).channel(RdmaChannel.class)
                .option(RdmaChannelOption.PROVIDER, devices())
                .handler(handler);
    }

    /** Connects a client to the server; closed after the test. */
    RdmaChannel connect(Bootstrap bootstrap, RdmaServerChannel server) throws Exception {
        RdmaChannel channel = (RdmaChannel) sync(bootstrap.connect(server.localAddress()));
        channels.add(channel);
        return channel;
    }

    static Channel sync(ChannelFuture future) throws Exception {
        assertThat(future.await(WAIT_SECONDS, TimeUnit.SECONDS)).as("completed: %s", future).isTrue();
        if (!future.isSuccess()) {
            if (future.cause() instanceof Exception e) {
                throw e;
            }
            throw new AssertionError(future.cause());
        }
        return future.channel();
    }

    static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        awaitTrue(condition, () -> what);
    }

    static void awaitTrue(BooleanSupplier condition, Supplier<String> what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out waiting for " + what.get());
            }
            Thread.sleep(10);
        }
    }

    private static List<Thread> providerThreads() {
        return PROVIDER_THREAD_PREFIXES.stream().flatMap(prefix -> threads(prefix).stream()).toList();
    }

    private static List<Thread> threads(String prefix) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.getName().startsWith(prefix) && thread.isAlive())
                .toList();
    }
}
