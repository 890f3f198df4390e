package io.livemig.transport.rdma.verbs.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.livemig.transport.rdma.unix.FileDescriptors;
import io.livemig.transport.rdma.verbs.CmEvent;
import io.livemig.transport.rdma.verbs.CmEventType;
import io.livemig.transport.rdma.verbs.CmId;
import io.livemig.transport.rdma.verbs.ConnectionParameters;
import io.livemig.transport.rdma.verbs.InvalidStateException;
import io.livemig.transport.rdma.verbs.QpState;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.VerbsTimeoutException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Conformance of the rdma_cm model: handshake with private data, reject, timeouts, disconnect, event fds. */
public abstract class ConnectionManagerConformance extends VerbsConformanceBase {

    private static final byte[] SOURCE_CAPS = {0, 0, 0, 1, 0, 0, 0, 1};
    private static final byte[] DEST_CAPS = {0, 0, 0, 1, 0, 0, 0, 0};

    @Test
    void connectAndAcceptExchangePrivateDataBothWays() throws VerbsException {
        Connection connection = connect(SOURCE_CAPS, DEST_CAPS);

        if (limited(ProviderLimit.NO_INCOMING_PRIVATE_DATA, "connected, both events without private data")) {
            assertThat(connection.connectRequest().privateData()).isEmpty();
            assertThat(connection.clientEstablished().privateData()).isEmpty();
        } else {
            assertThat(connection.connectRequest().privateData()).startsWith(SOURCE_CAPS);
            assertThat(connection.clientEstablished().privateData()).startsWith(DEST_CAPS);
        }
        assertThat(connection.connectRequest().listenId()).isSameAs(connection.listenId());
        assertThat(connection.client().qp().state()).isEqualTo(QpState.RTS);
        assertThat(connection.server().qp().state()).isEqualTo(QpState.RTS);
        assertThat(connection.client().id().remoteAddress()).isEqualTo(connection.listenId().localAddress());
    }

    @Test
    void fiftySixBytesOfPrivateDataTravelIntact() throws VerbsException {
        byte[] request = new byte[56];
        byte[] reply = new byte[56];
        for (int i = 0; i < 56; i++) {
            request[i] = (byte) i;
            reply[i] = (byte) (100 + i);
        }
        Connection connection = connect(request, reply);

        if (limited(ProviderLimit.NO_INCOMING_PRIVATE_DATA, "56 bytes accepted both ways, none delivered")) {
            assertThat(connection.connectRequest().privateData()).isEmpty();
            assertThat(connection.clientEstablished().privateData()).isEmpty();
            return;
        }
        assertThat(connection.connectRequest().privateData()).startsWith(request);
        assertThat(connection.clientEstablished().privateData()).startsWith(reply);
    }

    @Test
    void connectRefusesPrivateDataLongerThan56Bytes() throws VerbsException {
        Side server = newSide();
        Side client = newSide();
        CmId listenId = server.events().createId();
        listenId.listen(listenAddress(), 8);
        CmId id = routeResolved(client, listenId.localAddress());
        id.createQueuePair(client.pd(), client.attributes(4, 4));

        assertThatThrownBy(() -> id.connect(ConnectionParameters.of(new byte[57])))
                .isInstanceOf(VerbsException.class)
                .hasMessage("rdma_connect: private data of 57 bytes exceeds 56 bytes");
    }

    @Test
    void rejectDeliversRejectedWithConsumerReasonAndPrivateData() throws VerbsException {
        Side server = newSide();
        Side client = newSide();
        CmId listenId = server.events().createId();
        listenId.listen(listenAddress(), 8);
        CmId id = routeResolved(client, listenId.localAddress());
        id.createQueuePair(client.pd(), client.attributes(4, 4));
        id.connect(ConnectionParameters.of(SOURCE_CAPS));

        CmEvent request = awaitEvent(server, CmEventType.CONNECT_REQUEST);
        request.id().reject(new byte[] {9, 8, 7});

        CmEvent rejected = awaitEvent(client, CmEventType.REJECTED);
        if (limited(ProviderLimit.NO_CM_EVENT_STATUS, "REJECTED with status 0 and no private data")) {
            assertThat(rejected.status()).isZero();
            assertThat(rejected.privateData()).isEmpty();
        } else {
            assertThat(rejected.status()).isEqualTo(CmEvent.REJECT_CONSUMER_DEFINED);
            assertThat(rejected.privateData()).startsWith(9, 8, 7);
        }
        assertThat(rejected.id()).isSameAs(id);
        assertThat(id.queuePair().state()).isEqualTo(QpState.ERR);
    }

    @Test
    void connectToAnAddressNobodyListensOnIsRejectedWithinTheTimeout() throws Exception {
        Side client = newSide();
        CmId id = routeResolved(client, addressNobodyListensOn());
        id.createQueuePair(client.pd(), client.attributes(4, 4));
        id.connect(ConnectionParameters.of(SOURCE_CAPS).withTimeout(Duration.ofSeconds(2)));

        CmEvent event = client.events().awaitEvent(Duration.ofSeconds(5));
        assertThat(event.type()).isIn(CmEventType.REJECTED, CmEventType.UNREACHABLE);
        if (event.type() == CmEventType.REJECTED
                && !limited(ProviderLimit.NO_CM_EVENT_STATUS, "REJECTED with status " + event.status())) {
            assertThat(event.status()).isEqualTo(CmEvent.REJECT_INVALID_SERVICE_ID);
        }
    }

    @Test
    void listeningWhereAnotherIdListensFailsNamingTheCallAndTheCause() throws VerbsException {
        Side server = newSide();
        CmId listenId = server.events().createId();
        listenId.listen(listenAddress(), 8);
        CmId second = server.events().createId();

        // The caller says "cannot listen on ADDRESS"; the provider says what failed and why, once.
        assertThatThrownBy(() -> second.listen(listenId.localAddress(), 8))
                .isInstanceOf(VerbsException.class)
                .hasMessageStartingWith("rdma_bind_addr failed: ")
                .hasMessageContaining("Address already in use")
                .hasMessageNotContaining("cannot listen")
                .hasMessageNotContaining(String.valueOf(listenId.localAddress().getPort()));
    }

    @Test
    void connectIsUnreachableWhenThePeerNeverAnswersWithinTheTimeout() throws VerbsException {
        Side server = newSide();
        Side client = newSide();
        CmId listenId = server.events().createId();
        listenId.listen(listenAddress(), 8);
        CmId id = routeResolved(client, listenId.localAddress());
        id.createQueuePair(client.pd(), client.attributes(4, 4));
        id.connect(ConnectionParameters.of(SOURCE_CAPS).withTimeout(Duration.ofMillis(300)));
        awaitEvent(server, CmEventType.CONNECT_REQUEST); // and never answered

        CmEvent event = awaitEvent(client, CmEventType.UNREACHABLE);
        assertThat(event.status()).isEqualTo(CmEvent.STATUS_TIMED_OUT);
    }

    @Test
    void disconnectDeliversDisconnectedOnBothSidesAndMovesBothQueuePairsToError() throws VerbsException {
        Connection connection = connect();

        connection.client().id().disconnect();

        awaitEvent(connection.client(), CmEventType.DISCONNECTED);
        awaitEvent(connection.server(), CmEventType.DISCONNECTED);
        assertThat(connection.client().qp().state()).isEqualTo(QpState.ERR);
        assertThat(connection.server().qp().state()).isEqualTo(QpState.ERR);
    }

    @Test
    void closingOneSideDeliversDisconnectedToThePeer() throws VerbsException {
        Connection connection = connect();

        connection.server().id().close();

        awaitEvent(connection.client(), CmEventType.DISCONNECTED);
        assertThat(connection.client().qp().state()).isEqualTo(QpState.ERR);
    }

    @Test
    void eventChannelFdIsReadableExactlyWhileEventsArePending() throws Exception {
        Side client = newSide();
        CmId id = client.events().createId();
        int fd = client.events().fd();
        assertThat(FileDescriptors.poll(fd, FileDescriptors.POLLIN, 0)).isZero();

        id.resolveAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 4444), Duration.ofSeconds(1));

        assertThat(FileDescriptors.poll(fd, FileDescriptors.POLLIN, 5_000) & FileDescriptors.POLLIN).isNotZero();
        assertThat(client.events().pollEvent().type()).isEqualTo(CmEventType.ADDR_RESOLVED);
        assertThat(FileDescriptors.poll(fd, FileDescriptors.POLLIN, 0)).isZero();
        assertThat(client.events().pollEvent()).isNull();
    }

    @Test
    void resolvingANameThatDoesNotExistEndsWithAddrErrorWithinTheTimeout() throws VerbsException {
        Side client = newSide();
        CmId id = client.events().createId();

        id.resolveAddress(InetSocketAddress.createUnresolved("no-such-host.invalid", 4444), Duration.ofSeconds(2));

        CmEvent event = awaitEvent(client, CmEventType.ADDR_ERROR);
        assertThat(event.status()).isNegative();
        assertThatThrownBy(() -> id.resolveRoute(Duration.ofSeconds(1)))
                .isInstanceOf(InvalidStateException.class)
                .hasMessage("rdma_resolve_route: identifier is IDLE, expected ADDR_RESOLVED");
    }

    @Test
    void awaitEventTimesOutWithAPreciseMessage() throws VerbsException {
        Side client = newSide();

        assertThatThrownBy(() -> client.events().awaitEvent(Duration.ofMillis(50)))
                .isInstanceOf(VerbsTimeoutException.class)
                .hasMessage("rdma_get_cm_event: no event within PT0.05S");
    }

    @Test
    void connectBeforeRouteResolutionIsRefused() throws VerbsException {
        Side client = newSide();
        CmId id = client.events().createId();

        assertThatThrownBy(() -> id.connect(ConnectionParameters.of(SOURCE_CAPS)))
                .isInstanceOf(InvalidStateException.class)
                .hasMessage("rdma_connect: identifier is IDLE, expected ROUTE_RESOLVED");
    }

    @Test
    void listensAndConnectsOverIpv6() throws Exception {
        assumeThat(hasIpv6Loopback()).as("IPv6 loopback configured").isTrue();
        Side server = newSide();
        Side client = newSide();
        if (limited(ProviderLimit.IPV4_ONLY, "listening on IPv6 is refused")) {
            CmId refused = server.events().createId();
            assertThatThrownBy(() -> refused.listen(ipv6ListenAddress(), 8))
                    .isInstanceOf(VerbsException.class)
                    .hasMessageStartingWith("rdma_bind_addr: DiSNI supports IPv4 addresses only, got ");
            return;
        }
        CmId listenId = server.events().createId();
        listenId.listen(ipv6ListenAddress(), 8);
        CmId id = routeResolved(client, listenId.localAddress());
        id.createQueuePair(client.pd(), client.attributes(4, 4));
        id.connect(ConnectionParameters.of(SOURCE_CAPS));
        CmEvent request = awaitEvent(server, CmEventType.CONNECT_REQUEST);
        request.id().createQueuePair(server.pd(), server.attributes(4, 4));
        request.id().accept(ConnectionParameters.of(DEST_CAPS));

        assertThat(awaitEvent(client, CmEventType.ESTABLISHED).privateData()).startsWith(DEST_CAPS);
        assertThat(listenId.localAddress().getAddress().getAddress()).hasSize(16);
    }

    private static boolean hasIpv6Loopback() throws Exception {
        NetworkInterface loopback = NetworkInterface.getByInetAddress(InetAddress.getByName("::1"));
        return loopback != null;
    }

    /** Creates an identifier on the side's channel and resolves address and route to the destination. */
    protected static CmId routeResolved(Side side, InetSocketAddress destination) throws VerbsException {
        CmId id = side.events().createId();
        side.id = id;
        id.resolveAddress(destination, Duration.ofSeconds(2));
        awaitEvent(side, CmEventType.ADDR_RESOLVED);
        id.resolveRoute(Duration.ofSeconds(2));
        awaitEvent(side, CmEventType.ROUTE_RESOLVED);
        return id;
    }
}
