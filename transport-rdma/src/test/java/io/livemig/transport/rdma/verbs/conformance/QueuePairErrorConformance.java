package io.livemig.transport.rdma.verbs.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.livemig.transport.rdma.unix.FileDescriptors;
import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.ConnectionParameters;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import io.livemig.transport.rdma.verbs.QpState;
import io.livemig.transport.rdma.verbs.ReceiveWorkRequest;
import io.livemig.transport.rdma.verbs.ScatterGatherElement;
import io.livemig.transport.rdma.verbs.SendWorkRequest;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.VerbsTimeoutException;
import io.livemig.transport.rdma.verbs.WcOpcode;
import io.livemig.transport.rdma.verbs.WcStatus;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Conformance of the error state and of completion notification. */
public abstract class QueuePairErrorConformance extends VerbsConformanceBase {

    private static final Set<AccessFlag> LOCAL = Set.of(AccessFlag.LOCAL_WRITE);

    @Test
    void moveToErrorFlushesEveryOutstandingSendAndReceiveInOrder() throws VerbsException {
        ConnectionParameters patient = ConnectionParameters.of(new byte[8]).withRnrRetryCount(7);
        Connection c = connect(patient, patient, 16, 16);
        MemoryRegion buffer = c.client().register(arena, 4096, LOCAL);
        for (int i = 0; i < 3; i++) {
            c.client().qp().postReceive(ReceiveWorkRequest.of(100 + i, ScatterGatherElement.of(buffer, i * 64L, 64)));
        }
        // The server posts no receive, so these SENDs stay outstanding (RNR-retried forever).
        for (int i = 0; i < 3; i++) {
            c.client().qp().postSend(SendWorkRequest.send(i, List.of(ScatterGatherElement.of(buffer, 1024, 8)))
                    .unsignaled());
        }

        c.client().qp().moveToError();

        assertThat(c.client().qp().state()).isEqualTo(QpState.ERR);
        assertThat(c.client().await(c.client().sendCq(), 3)).extracting(Wc::idAndStatus)
                .containsExactly("0:WR_FLUSH_ERR", "1:WR_FLUSH_ERR", "2:WR_FLUSH_ERR");
        assertThat(c.client().await(c.client().receiveCq(), 3)).extracting(Wc::idAndStatus)
                .containsExactly("100:WR_FLUSH_ERR", "101:WR_FLUSH_ERR", "102:WR_FLUSH_ERR");
    }

    @Test
    void workRequestsPostedInErrorCompleteWithFlushError() throws VerbsException {
        Connection c = connect();
        MemoryRegion buffer = c.client().register(arena, 4096, LOCAL);
        c.client().qp().moveToError();

        c.client().qp().postSend(SendWorkRequest.send(1, List.of(ScatterGatherElement.of(buffer, 0, 8))));
        c.client().qp().postReceive(ReceiveWorkRequest.of(2, ScatterGatherElement.of(buffer, 0, 8)));

        assertThat(c.client().await(c.client().sendCq(), 1)).containsExactly(
                new Wc(1, WcStatus.WR_FLUSH_ERR, WcOpcode.SEND, 0, 0, false));
        // Awaited after the send's flush, so a device that flushes at post time has flushed the receive too.
        List<Wc> received = c.client().pollNow(c.client().receiveCq());
        if (received.isEmpty() && accepts(c.client(),
                KnownDeviation.RECEIVES_POSTED_IN_ERROR_FLUSHED_ON_NEXT_MOVE_TO_ERROR,
                "receive 2 posted in ERR not flushed yet; moving the queue pair to ERR again")) {
            c.client().qp().moveToError();
        }
        if (received.isEmpty()) {
            received = c.client().await(c.client().receiveCq(), 1);
        }
        assertThat(received).extracting(Wc::idAndStatus).containsExactly("2:WR_FLUSH_ERR");
        assertThat(c.client().pollNow(c.client().receiveCq())).isEmpty();
    }

    @Test
    void disconnectFlushesThePostedReceivesOfBothSides() throws VerbsException {
        Connection c = connect();
        MemoryRegion clientBuffer = c.client().register(arena, 4096, LOCAL);
        MemoryRegion serverBuffer = c.server().register(arena, 4096, LOCAL);
        c.client().qp().postReceive(ReceiveWorkRequest.of(1, ScatterGatherElement.of(clientBuffer, 0, 64)));
        c.server().qp().postReceive(ReceiveWorkRequest.of(2, ScatterGatherElement.of(serverBuffer, 0, 64)));

        c.client().id().disconnect();

        assertThat(c.client().await(c.client().receiveCq(), 1)).extracting(Wc::idAndStatus)
                .containsExactly("1:WR_FLUSH_ERR");
        assertThat(c.server().await(c.server().receiveCq(), 1)).extracting(Wc::idAndStatus)
                .containsExactly("2:WR_FLUSH_ERR");
    }

    @Test
    void queuePairDeeperThanTheDeviceAllowsIsRefused() throws VerbsException {
        Side client = newSide();
        Side server = newSide();
        var listenId = server.events().createId();
        listenId.listen(listenAddress(), 8);
        var id = ConnectionManagerConformance.routeResolved(client, listenId.localAddress());
        int tooDeep = client.device().attributes().maxQpWr() + 1;

        assertThatThrownBy(() -> id.createQueuePair(client.pd(), client.attributes(tooDeep, 4)))
                .isInstanceOf(VerbsException.class)
                .hasMessageStartingWith("rdma_create_qp: attributes exceed the limits of ");
        assertThat(id.queuePair()).isNull();
    }

    @Test
    void armedCompletionQueueMakesTheChannelFdReadableAndNamesTheQueue() throws Exception {
        Connection c = connect();
        MemoryRegion receiveBuffer = c.server().register(arena, 64, LOCAL);
        c.server().qp().postReceive(ReceiveWorkRequest.of(1, ScatterGatherElement.of(receiveBuffer, 0, 64)));
        int fd = c.server().completionChannel().fd();
        c.server().receiveCq().requestNotification(false);
        assertThat(FileDescriptors.poll(fd, FileDescriptors.POLLIN, 0)).isZero();
        MemoryRegion sendBuffer = c.client().register(arena, 64, LOCAL);

        c.client().qp().postSend(SendWorkRequest.send(1, List.of(ScatterGatherElement.of(sendBuffer, 0, 8))));

        assertThat(FileDescriptors.poll(fd, FileDescriptors.POLLIN, 10_000) & FileDescriptors.POLLIN).isNotZero();
        assertThat(c.server().completionChannel().pollEvent()).isSameAs(c.server().receiveCq());
        assertThat(FileDescriptors.poll(fd, FileDescriptors.POLLIN, 0)).isZero();
        assertThat(c.server().pollNow(c.server().receiveCq())).extracting(Wc::idAndStatus).containsExactly("1:SUCCESS");
    }

    @Test
    void unarmedCompletionQueueDoesNotSignalItsChannel() throws VerbsException {
        Connection c = connect();
        MemoryRegion sendBuffer = c.client().register(arena, 64, LOCAL);
        MemoryRegion target = c.server().register(arena, 64, Set.of(AccessFlag.LOCAL_WRITE, AccessFlag.REMOTE_WRITE));

        c.client().qp().postSend(SendWorkRequest.rdmaWrite(1, List.of(ScatterGatherElement.of(sendBuffer, 0, 8)),
                target.address(), target.rkey()));
        assertThat(c.client().await(c.client().sendCq(), 1)).hasSize(1); // arms only after an empty poll

        assertThat(c.client().completionChannel().pollEvent()).isNull();
        assertThatThrownBy(() -> c.client().completionChannel().awaitEvent(Duration.ofMillis(20)))
                .isInstanceOf(VerbsTimeoutException.class)
                .hasMessage("ibv_get_cq_event: no completion event within PT0.02S");
    }
}
