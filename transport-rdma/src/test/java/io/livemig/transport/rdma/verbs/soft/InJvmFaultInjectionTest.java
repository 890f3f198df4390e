package io.livemig.transport.rdma.verbs.soft;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.CmEventType;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import io.livemig.transport.rdma.verbs.QpState;
import io.livemig.transport.rdma.verbs.ReceiveWorkRequest;
import io.livemig.transport.rdma.verbs.ScatterGatherElement;
import io.livemig.transport.rdma.verbs.SendWorkRequest;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.conformance.ProviderFixture;
import io.livemig.transport.rdma.verbs.conformance.VerbsConformanceBase;
import io.livemig.transport.rdma.verbs.conformance.Wc;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The RC engine recovers from lost, corrupted and late packets, and fails cleanly when the link breaks. */
class InJvmFaultInjectionTest extends VerbsConformanceBase {

    private static final Set<AccessFlag> LOCAL = Set.of(AccessFlag.LOCAL_WRITE);
    private static final Set<AccessFlag> REMOTE = Set.of(AccessFlag.LOCAL_WRITE, AccessFlag.REMOTE_WRITE,
            AccessFlag.REMOTE_READ);

    /** A short ACK timeout keeps the retransmission tests quick. */
    private final SoftFixtures.InJvm fixture = SoftFixtures.inJvm(Duration.ofMillis(30));
    /** The fixture's fabric, for fault injection. */
    private final InJvmFabric fabric = fixture.fabric();

    @Override
    protected ProviderFixture fixture() {
        return fixture;
    }

    /** Applies {@code fault} to the first packet with the given operation, delivers everything else. */
    private static FaultInjector once(String operation, FaultInjector.Fault fault) {
        AtomicInteger seen = new AtomicInteger();
        return packet -> packet.operation().equals(operation) && seen.getAndIncrement() == 0
                ? fault : FaultInjector.Fault.DELIVER;
    }

    @Test
    void droppedWriteIsRetransmittedAfterTheAckTimeoutAndPlaced() throws VerbsException {
        Connection c = connect();
        MemoryRegion target = c.server().register(arena, 4096, REMOTE);
        MemoryRegion source = c.client().register(arena, 4096, LOCAL);
        source.segment().fill((byte) 9);
        fabric.faultInjector(once("RDMA_WRITE", FaultInjector.Fault.DROP));

        c.client().qp().postSend(SendWorkRequest.rdmaWrite(1, List.of(ScatterGatherElement.of(source, 0, 4096)),
                target.address(), target.rkey()));

        assertThat(c.client().await(c.client().sendCq(), 1)).extracting(Wc::idAndStatus).containsExactly("1:SUCCESS");
        assertThat(target.segment().mismatch(source.segment())).isEqualTo(-1L);
    }

    @Test
    void lostSendIsRecoveredByPsnSequenceNakWithoutReordering() throws VerbsException {
        Connection c = connect();
        MemoryRegion receiveBuffer = c.server().register(arena, 4096, LOCAL);
        for (int i = 0; i < 3; i++) {
            c.server().qp().postReceive(ReceiveWorkRequest.of(i, ScatterGatherElement.of(receiveBuffer, i * 64L, 64)));
        }
        MemoryRegion source = c.client().register(arena, 4096, LOCAL);
        fabric.faultInjector(once("SEND", FaultInjector.Fault.DROP));

        for (int i = 0; i < 3; i++) {
            source.segment().set(ValueLayout.JAVA_BYTE, i, (byte) (i + 1));
            c.client().qp().postSend(SendWorkRequest.send(i, List.of(ScatterGatherElement.of(source, i, 1))));
        }

        assertThat(c.server().await(c.server().receiveCq(), 3)).extracting(Wc::wrId).containsExactly(0L, 1L, 2L);
        for (int i = 0; i < 3; i++) {
            assertThat(receiveBuffer.segment().get(ValueLayout.JAVA_BYTE, i * 64L)).isEqualTo((byte) (i + 1));
        }
        assertThat(c.client().await(c.client().sendCq(), 3)).extracting(Wc::idAndStatus)
                .containsExactly("0:SUCCESS", "1:SUCCESS", "2:SUCCESS");
    }

    @Test
    void lostAckMakesTheResponderAnswerTheDuplicateWithoutConsumingASecondReceive() throws VerbsException {
        Connection c = connect();
        MemoryRegion receiveBuffer = c.server().register(arena, 4096, LOCAL);
        c.server().qp().postReceive(ReceiveWorkRequest.of(1, ScatterGatherElement.of(receiveBuffer, 0, 64)));
        c.server().qp().postReceive(ReceiveWorkRequest.of(2, ScatterGatherElement.of(receiveBuffer, 64, 64)));
        MemoryRegion source = c.client().register(arena, 64, LOCAL);
        fabric.faultInjector(once("ACK", FaultInjector.Fault.DROP));

        c.client().qp().postSend(SendWorkRequest.send(7, List.of(ScatterGatherElement.of(source, 0, 8))));

        assertThat(c.client().await(c.client().sendCq(), 1)).extracting(Wc::idAndStatus).containsExactly("7:SUCCESS");
        assertThat(c.server().await(c.server().receiveCq(), 1)).extracting(Wc::wrId).containsExactly(1L);
        assertThat(c.server().pollNow(c.server().receiveCq())).isEmpty();
    }

    @Test
    void corruptedPacketIsDiscardedByTheReceiverAndRetransmitted() throws VerbsException {
        Connection c = connect();
        MemoryRegion receiveBuffer = c.server().register(arena, 64, LOCAL);
        c.server().qp().postReceive(ReceiveWorkRequest.of(1, ScatterGatherElement.of(receiveBuffer, 0, 64)));
        MemoryRegion source = c.client().register(arena, 64, LOCAL);
        source.segment().fill((byte) 0x33);
        fabric.faultInjector(once("SEND", FaultInjector.Fault.CORRUPT));

        c.client().qp().postSend(SendWorkRequest.send(1, List.of(ScatterGatherElement.of(source, 0, 64))));

        assertThat(c.server().await(c.server().receiveCq(), 1)).extracting(Wc::byteLength).containsExactly(64);
        assertThat(receiveBuffer.segment().mismatch(source.segment())).isEqualTo(-1L);
        assertThat(fabric.corruptedPackets()).isEqualTo(1);
    }

    @Test
    void lostReadResponseIsRecoveredByReExecutingTheRead() throws VerbsException {
        Connection c = connect();
        MemoryRegion remote = c.server().register(arena, 4096, REMOTE);
        remote.segment().fill((byte) 0x44);
        MemoryRegion local = c.client().register(arena, 4096, LOCAL);
        fabric.faultInjector(once("READ_RESPONSE", FaultInjector.Fault.DROP));

        c.client().qp().postSend(SendWorkRequest.rdmaRead(1, List.of(ScatterGatherElement.of(local, 0, 4096)),
                remote.address(), remote.rkey()));

        assertThat(c.client().await(c.client().sendCq(), 1)).extracting(Wc::idAndStatus).containsExactly("1:SUCCESS");
        assertThat(local.segment().mismatch(remote.segment())).isEqualTo(-1L);
    }

    @Test
    void delayedPacketsStillArriveInOrder() throws VerbsException {
        Connection c = connect();
        MemoryRegion receiveBuffer = c.server().register(arena, 4096, LOCAL);
        for (int i = 0; i < 8; i++) {
            c.server().qp().postReceive(ReceiveWorkRequest.of(i, ScatterGatherElement.of(receiveBuffer, i * 64L, 64)));
        }
        MemoryRegion source = c.client().register(arena, 64, LOCAL);
        fabric.faultInjector(packet -> packet.request() && packet.psn() % 2 == 0
                ? FaultInjector.Fault.delay(Duration.ofMillis(5)) : FaultInjector.Fault.DELIVER);

        for (int i = 0; i < 8; i++) {
            c.client().qp().postSend(SendWorkRequest.send(i, List.of(ScatterGatherElement.of(source, 0, 8))));
        }

        assertThat(c.server().await(c.server().receiveCq(), 8)).extracting(Wc::wrId)
                .containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L);
    }

    @Test
    void peerThatNeverAnswersFailsTheRequestWithRetryExceeded() throws VerbsException {
        Connection c = connect();
        MemoryRegion target = c.server().register(arena, 4096, REMOTE);
        MemoryRegion source = c.client().register(arena, 4096, LOCAL);
        fabric.faultInjector(packet -> FaultInjector.Fault.DROP);

        c.client().qp().postSend(SendWorkRequest.rdmaWrite(1, List.of(ScatterGatherElement.of(source, 0, 64)),
                target.address(), target.rkey()));
        c.client().qp().postSend(SendWorkRequest.rdmaWrite(2, List.of(ScatterGatherElement.of(source, 0, 64)),
                target.address(), target.rkey()));

        // retry_count 5 (QEMU's): the first transmission and 5 retransmissions go unanswered.
        assertThat(c.client().await(c.client().sendCq(), 2)).extracting(Wc::idAndStatus)
                .containsExactly("1:RETRY_EXC_ERR", "2:WR_FLUSH_ERR");
        assertThat(c.client().qp().state()).isEqualTo(QpState.ERR);
    }

    @Test
    void brokenLinkFailsOutstandingWorkAndDisconnectsBothSides() throws VerbsException {
        Connection c = connect(); // rnr_retry_count 0, but no RNR happens: the SEND waits in the send queue
        MemoryRegion source = c.client().register(arena, 64, LOCAL);
        MemoryRegion receiveBuffer = c.server().register(arena, 64, LOCAL);
        c.server().qp().postReceive(ReceiveWorkRequest.of(5, ScatterGatherElement.of(receiveBuffer, 0, 64)));
        fabric.faultInjector(packet -> FaultInjector.Fault.delay(Duration.ofSeconds(30)));
        c.client().qp().postSend(SendWorkRequest.send(1, List.of(ScatterGatherElement.of(source, 0, 8))));

        fabric.breakLinks();

        assertThat(c.client().await(c.client().sendCq(), 1)).extracting(Wc::idAndStatus)
                .containsExactly("1:RETRY_EXC_ERR");
        assertThat(c.server().await(c.server().receiveCq(), 1)).extracting(Wc::idAndStatus)
                .containsExactly("5:WR_FLUSH_ERR");
        awaitEvent(c.client(), CmEventType.DISCONNECTED);
        awaitEvent(c.server(), CmEventType.DISCONNECTED);
    }
}
