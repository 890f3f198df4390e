package io.livemig.transport.rdma.verbs.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.transport.rdma.verbs.CmEvent;
import io.livemig.transport.rdma.verbs.CmEventType;
import io.livemig.transport.rdma.verbs.CmId;
import io.livemig.transport.rdma.verbs.ConnectionParameters;
import io.livemig.transport.rdma.verbs.DeviceContext;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.WcStatus;
import java.lang.foreign.Arena;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * Base of the provider conformance suites, in the style of Netty's testsuite permutations: a provider's test
 * module subclasses each suite with a few lines that say how to open a device and which addresses to use; every
 * test then runs against that provider.
 */
public abstract class VerbsConformanceBase {

    /** Memory of the test, closed after every device. */
    protected final Arena arena = Arena.ofShared();
    private final List<Side> sides = new ArrayList<>();

    /**
     * The provider under test, and where it listens and connects. Called once per test for each use; a
     * fixture that holds state (a fabric) is a field of the test instance.
     *
     * @return the fixture
     */
    protected abstract ProviderFixture fixture();

    /**
     * Opens a new device of the provider under test. Two calls give two devices that can reach each other.
     *
     * @return the device
     * @throws VerbsException when the provider cannot open one
     */
    protected DeviceContext openDevice() throws VerbsException {
        return fixture().openDevice();
    }

    /**
     * An address to listen on, with port 0.
     *
     * @return the address
     */
    protected InetSocketAddress listenAddress() {
        return fixture().listenAddress();
    }

    /**
     * An IPv6 address to listen on, with port 0.
     *
     * @return the address
     */
    protected InetSocketAddress ipv6ListenAddress() {
        return fixture().ipv6ListenAddress();
    }

    /**
     * An address where nobody listens, so a connect is rejected or unreachable.
     *
     * @return the address
     * @throws Exception when none can be found
     */
    protected InetSocketAddress addressNobodyListensOn() throws Exception {
        return fixture().addressNobodyListensOn();
    }

    // Per test rather than per class, so every skipped test reports the reason.
    @BeforeEach
    void requireProvider() {
        fixture().assumeAvailable();
    }

    /**
     * Opens a side on a new device; closed after the test.
     *
     * @return the side
     * @throws VerbsException when the device cannot be opened
     */
    protected Side newSide() throws VerbsException {
        Side side = new Side(openDevice());
        sides.add(side);
        return side;
    }

    @AfterEach
    void closeSides() {
        for (Side side : sides) {
            side.close();
        }
        fixture().close();
        arena.close();
    }

    /**
     * Waits for the next event on the side's channel and checks its type.
     *
     * @param side the side
     * @param expected the type
     * @return the event
     * @throws VerbsException when no event comes
     */
    protected static CmEvent awaitEvent(Side side, CmEventType expected) throws VerbsException {
        CmEvent event = side.events().awaitEvent(Side.WAIT);
        assertThat(event.type()).as("event %s", event).isEqualTo(expected);
        return event;
    }

    /**
     * Whether the fixture declares the deviation for the side's device, so a test may accept the alternative the
     * deviation describes. Says so on standard output when it does, so a run's log shows every deviation it
     * accepted.
     *
     * @param side the side whose device causes the behaviour
     * @param deviation the deviation
     * @param what what the test saw, for the log
     * @return true when the deviation is declared for the device
     */
    protected boolean accepts(Side side, KnownDeviation deviation, String what) {
        if (!fixture().knownDeviations(side.device()).contains(deviation)) {
            return false;
        }
        System.out.println("KNOWN DEVIATION " + deviation + " of " + side.device().name() + " accepted: " + what);
        return true;
    }

    /**
     * Whether the fixture declares the provider limit; says so on standard output when it does, so a run's log shows
     * every limit a test met.
     *
     * @param limit the limit
     * @param what what the test checks instead, for the log
     * @return true when the provider has the limit
     */
    protected boolean limited(ProviderLimit limit, String what) {
        if (!fixture().limits().contains(limit)) {
            return false;
        }
        System.out.println("KNOWN LIMIT " + limit + " accepted: " + what);
        return true;
    }

    /**
     * Checks a completion's status: the one the specification requires, or the one the named deviation reports
     * instead when the fixture declares that deviation for the device that causes it.
     *
     * @param cause the side whose device produces the status (the responder, for a status carried by a NAK)
     * @param completion the completion
     * @param specified the status the specification requires
     * @param deviation the deviation that may replace it
     */
    protected void assertStatus(Side cause, Wc completion, WcStatus specified, KnownDeviation deviation) {
        assertThat(deviation.replaces(specified)).as("%s is about %s", deviation, specified).isTrue();
        if (completion.status() != specified && deviation.explains(specified, completion.status())
                && accepts(cause, deviation, "work request " + completion.wrId() + " completed with "
                        + completion.status() + " where the specification says " + specified)) {
            return;
        }
        assertThat(completion.status()).as("status of work request %d", completion.wrId()).isEqualTo(specified);
    }

    /**
     * Where the client connects to reach a server listening on {@code listening}: the listener itself, or a test's
     * relay in front of it (a link the test can cut).
     *
     * @param listening the server's bound address
     * @return the address the client resolves
     * @throws VerbsException when the relay cannot be set up
     */
    protected InetSocketAddress dialAddress(InetSocketAddress listening) throws VerbsException {
        return listening;
    }

    /** A connected pair of queue pairs, with the events of the handshake. */
    protected record Connection(Side client, Side server, CmId listenId, CmEvent connectRequest,
                                CmEvent clientEstablished, CmEvent serverEstablished) {
    }

    /**
     * Connects two new sides with QEMU's parameters and the given private data.
     *
     * @param clientData the client's private data
     * @param serverData the server's private data
     * @return the connection
     * @throws VerbsException when a step fails
     */
    protected Connection connect(byte[] clientData, byte[] serverData) throws VerbsException {
        return connect(ConnectionParameters.of(clientData), ConnectionParameters.of(serverData), 64, 64);
    }

    /**
     * Connects two new sides.
     *
     * @param clientParameters the client's connect parameters
     * @param serverParameters the server's accept parameters
     * @param sendDepth both queue pairs' send depth
     * @param receiveDepth both queue pairs' receive depth
     * @return the connection
     * @throws VerbsException when a step fails
     */
    protected Connection connect(ConnectionParameters clientParameters, ConnectionParameters serverParameters,
                                 int sendDepth, int receiveDepth) throws VerbsException {
        Side server = newSide();
        Side client = newSide();
        CmId listenId = server.events().createId();
        listenId.listen(listenAddress(), 8);
        client.id = client.events().createId();
        client.id.resolveAddress(dialAddress(listenId.localAddress()), Duration.ofSeconds(2));
        awaitEvent(client, CmEventType.ADDR_RESOLVED);
        client.id.resolveRoute(Duration.ofSeconds(2));
        awaitEvent(client, CmEventType.ROUTE_RESOLVED);
        client.qp = client.id.createQueuePair(client.pd(), client.attributes(sendDepth, receiveDepth));
        client.id.connect(clientParameters);
        CmEvent request = awaitEvent(server, CmEventType.CONNECT_REQUEST);
        server.id = request.id();
        server.qp = server.id.createQueuePair(server.pd(), server.attributes(sendDepth, receiveDepth));
        server.id.accept(serverParameters);
        CmEvent clientEstablished = awaitEvent(client, CmEventType.ESTABLISHED);
        CmEvent serverEstablished = awaitEvent(server, CmEventType.ESTABLISHED);
        return new Connection(client, server, listenId, request, clientEstablished, serverEstablished);
    }

    /**
     * Connects with QEMU's parameters and 8 bytes of capabilities each way.
     *
     * @return the connection
     * @throws VerbsException when a step fails
     */
    protected Connection connect() throws VerbsException {
        return connect(new byte[] {0, 0, 0, 1, 0, 0, 0, 1}, new byte[] {0, 0, 0, 1, 0, 0, 0, 0});
    }
}
