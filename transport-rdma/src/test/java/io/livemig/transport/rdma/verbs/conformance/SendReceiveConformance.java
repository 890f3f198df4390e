package io.livemig.transport.rdma.verbs.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.ConnectionParameters;
import io.livemig.transport.rdma.verbs.InvalidWorkRequestException;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import io.livemig.transport.rdma.verbs.QpState;
import io.livemig.transport.rdma.verbs.ReceiveWorkRequest;
import io.livemig.transport.rdma.verbs.ScatterGatherElement;
import io.livemig.transport.rdma.verbs.SendWorkRequest;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.WcOpcode;
import io.livemig.transport.rdma.verbs.WcStatus;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Conformance of two-sided operations: SEND/RECV ordering, immediate data, RNR, length errors, signaling. */
public abstract class SendReceiveConformance extends VerbsConformanceBase {

    private static final Set<AccessFlag> LOCAL = Set.of(AccessFlag.LOCAL_WRITE);

    @Test
    void sendsConsumeReceivesInPostingOrder() throws VerbsException {
        Connection c = connect();
        MemoryRegion receiveBuffer = c.server().register(arena, 4 * 64, LOCAL);
        for (int i = 0; i < 4; i++) {
            c.server().qp().postReceive(ReceiveWorkRequest.of(100 + i, ScatterGatherElement.of(receiveBuffer, i * 64L, 64)));
        }
        MemoryRegion sendBuffer = c.client().register(arena, 4 * 64, LOCAL);
        for (int i = 0; i < 4; i++) {
            sendBuffer.segment().asSlice(i * 64L, 64).fill((byte) (i + 1));
            c.client().qp().postSend(SendWorkRequest.send(i, List.of(ScatterGatherElement.of(sendBuffer, i * 64L, 10 + i))));
        }

        List<Wc> received = c.server().await(c.server().receiveCq(), 4);
        assertThat(received).extracting(Wc::wrId).containsExactly(100L, 101L, 102L, 103L);
        assertThat(received).extracting(Wc::byteLength).containsExactly(10, 11, 12, 13);
        assertThat(received).extracting(Wc::opcode).containsOnly(WcOpcode.RECV);
        assertThat(received).extracting(Wc::status).containsOnly(WcStatus.SUCCESS);
        for (int i = 0; i < 4; i++) {
            assertThat(receiveBuffer.segment().get(ValueLayout.JAVA_BYTE, i * 64L)).isEqualTo((byte) (i + 1));
        }
        assertThat(c.client().await(c.client().sendCq(), 4)).extracting(Wc::wrId).containsExactly(0L, 1L, 2L, 3L);
    }

    @Test
    void sendWithImmediateDeliversTheImmediateData() throws VerbsException {
        Connection c = connect();
        MemoryRegion receiveBuffer = c.server().register(arena, 64, LOCAL);
        c.server().qp().postReceive(ReceiveWorkRequest.of(7, ScatterGatherElement.of(receiveBuffer, 0, 64)));
        MemoryRegion sendBuffer = c.client().register(arena, 64, LOCAL);

        c.client().qp().postSend(SendWorkRequest.sendWithImmediate(1,
                List.of(ScatterGatherElement.of(sendBuffer, 0, 16)), 0xCAFEBABE));

        Wc wc = c.server().await(c.server().receiveCq(), 1).getFirst();
        assertThat(wc).isEqualTo(new Wc(7, WcStatus.SUCCESS, WcOpcode.RECV, 16, 0xCAFEBABE, true));
    }

    @Test
    void sendScattersAcrossTheReceiveSgesAndGathersFromTheSendSges() throws VerbsException {
        Connection c = connect();
        MemoryRegion receiveBuffer = c.server().register(arena, 4096, LOCAL);
        c.server().qp().postReceive(new ReceiveWorkRequest(1, List.of(ScatterGatherElement.of(receiveBuffer, 0, 3),
                ScatterGatherElement.of(receiveBuffer, 100, 5))));
        MemoryRegion sendBuffer = c.client().register(arena, 4096, LOCAL);
        sendBuffer.segment().asSlice(0, 4).copyFrom(MemorySegment.ofArray(new byte[] {1, 2, 3, 4}));
        sendBuffer.segment().asSlice(200, 4).copyFrom(MemorySegment.ofArray(new byte[] {5, 6, 7, 8}));

        c.client().qp().postSend(SendWorkRequest.send(1, List.of(ScatterGatherElement.of(sendBuffer, 0, 4),
                ScatterGatherElement.of(sendBuffer, 200, 4))));

        assertThat(c.server().await(c.server().receiveCq(), 1).getFirst().byteLength()).isEqualTo(8);
        assertThat(receiveBuffer.segment().asSlice(0, 3).toArray(ValueLayout.JAVA_BYTE)).containsExactly(1, 2, 3);
        assertThat(receiveBuffer.segment().asSlice(100, 5).toArray(ValueLayout.JAVA_BYTE))
                .containsExactly(4, 5, 6, 7, 8);
    }

    @Test
    void rnrFailsSenderWithRnrRetryExceededAndMovesQpToError() throws VerbsException {
        Connection c = connect(); // QEMU's parameters: rnr_retry_count 0
        MemoryRegion sendBuffer = c.client().register(arena, 64, LOCAL);
        MemoryRegion receiveBuffer = c.client().register(arena, 64, LOCAL);
        c.client().qp().postReceive(ReceiveWorkRequest.of(50, ScatterGatherElement.of(receiveBuffer, 0, 64)));

        c.client().qp().postSend(SendWorkRequest.send(1, List.of(ScatterGatherElement.of(sendBuffer, 0, 8))));
        c.client().qp().postSend(SendWorkRequest.send(2, List.of(ScatterGatherElement.of(sendBuffer, 8, 8))));

        List<Wc> sends = c.client().await(c.client().sendCq(), 2);
        assertThat(sends).extracting(Wc::idAndStatus).containsExactly("1:RNR_RETRY_EXC_ERR", "2:WR_FLUSH_ERR");
        assertThat(c.client().qp().state()).isEqualTo(QpState.ERR);
        assertThat(c.client().await(c.client().receiveCq(), 1)).extracting(Wc::idAndStatus)
                .containsExactly("50:WR_FLUSH_ERR");
    }

    @Test
    void rnrWithInfiniteRetrySucceedsOnceAReceiveIsPosted() throws VerbsException {
        ConnectionParameters patient = ConnectionParameters.of(new byte[8]).withRnrRetryCount(7);
        Connection c = connect(patient, patient, 16, 16);
        MemoryRegion sendBuffer = c.client().register(arena, 64, LOCAL);
        MemoryRegion receiveBuffer = c.server().register(arena, 64, LOCAL);
        sendBuffer.segment().fill((byte) 0x5A);

        c.client().qp().postSend(SendWorkRequest.send(1, List.of(ScatterGatherElement.of(sendBuffer, 0, 32))));
        assertThat(c.client().pollNow(c.client().sendCq())).isEmpty();
        c.server().qp().postReceive(ReceiveWorkRequest.of(9, ScatterGatherElement.of(receiveBuffer, 0, 64)));

        assertThat(c.client().await(c.client().sendCq(), 1)).extracting(Wc::idAndStatus).containsExactly("1:SUCCESS");
        assertThat(c.server().await(c.server().receiveCq(), 1).getFirst().byteLength()).isEqualTo(32);
        assertThat(receiveBuffer.segment().get(ValueLayout.JAVA_BYTE, 31)).isEqualTo((byte) 0x5A);
    }

    @Test
    void receiveTooSmallFailsResponderWithLocLenErrAndSenderWithRemoteInvalidRequest() throws VerbsException {
        Connection c = connect();
        MemoryRegion receiveBuffer = c.server().register(arena, 64, LOCAL);
        c.server().qp().postReceive(ReceiveWorkRequest.of(1, ScatterGatherElement.of(receiveBuffer, 0, 16)));
        c.server().qp().postReceive(ReceiveWorkRequest.of(2, ScatterGatherElement.of(receiveBuffer, 16, 16)));
        MemoryRegion sendBuffer = c.client().register(arena, 64, LOCAL);

        c.client().qp().postSend(SendWorkRequest.send(5, List.of(ScatterGatherElement.of(sendBuffer, 0, 17))));

        List<Wc> received = c.server().await(c.server().receiveCq(), 2);
        assertThat(received).extracting(Wc::wrId).containsExactly(1L, 2L);
        assertStatus(c.server(), received.get(0), WcStatus.LOC_LEN_ERR, KnownDeviation.LOCAL_ERRORS_AS_LOC_QP_OP_ERR);
        assertThat(received.get(1).status()).isEqualTo(WcStatus.WR_FLUSH_ERR);
        List<Wc> sent = c.client().await(c.client().sendCq(), 1);
        assertThat(sent).extracting(Wc::wrId).containsExactly(5L);
        assertStatus(c.server(), sent.getFirst(), WcStatus.REM_INV_REQ_ERR,
                KnownDeviation.RECEIVE_OVERFLOW_NAKED_AS_REM_OP_ERR);
        assertThat(c.server().qp().state()).isEqualTo(QpState.ERR);
        assertThat(c.client().qp().state()).isEqualTo(QpState.ERR);
    }

    @Test
    void unsignaledSendsCompleteSilentlyAndOnlyTheSignaledOneReports() throws VerbsException {
        Connection c = connect();
        MemoryRegion receiveBuffer = c.server().register(arena, 4 * 64, LOCAL);
        for (int i = 0; i < 4; i++) {
            c.server().qp().postReceive(ReceiveWorkRequest.of(i, ScatterGatherElement.of(receiveBuffer, i * 64L, 64)));
        }
        MemoryRegion sendBuffer = c.client().register(arena, 64, LOCAL);
        List<ScatterGatherElement> sge = List.of(ScatterGatherElement.of(sendBuffer, 0, 8));

        c.client().qp().postSend(SendWorkRequest.send(1, sge).unsignaled());
        c.client().qp().postSend(SendWorkRequest.send(2, sge).unsignaled());
        c.client().qp().postSend(SendWorkRequest.send(3, sge).unsignaled());
        c.client().qp().postSend(SendWorkRequest.send(4, sge));

        assertThat(c.server().await(c.server().receiveCq(), 4)).hasSize(4);
        assertThat(c.client().await(c.client().sendCq(), 1)).extracting(Wc::idAndStatus).containsExactly("4:SUCCESS");
        assertThat(c.client().pollNow(c.client().sendCq())).isEmpty();
    }

    @Test
    void inlineSendCapturesThePayloadAtPostTime() throws VerbsException {
        Connection c = connect();
        MemoryRegion receiveBuffer = c.server().register(arena, 64, LOCAL);
        c.server().qp().postReceive(ReceiveWorkRequest.of(1, ScatterGatherElement.of(receiveBuffer, 0, 64)));
        MemoryRegion sendBuffer = c.client().register(arena, 64, LOCAL);
        sendBuffer.segment().fill((byte) 1);

        c.client().qp().postSend(SendWorkRequest.send(1, List.of(ScatterGatherElement.of(sendBuffer, 0, 32))).inlined());
        sendBuffer.segment().fill((byte) 2); // allowed: an inline send does not read the buffer after posting

        c.server().await(c.server().receiveCq(), 1);
        assertThat(receiveBuffer.segment().asSlice(0, 32).toArray(ValueLayout.JAVA_BYTE)).containsOnly(1);
    }

    @Test
    void inlineSendLargerThanMaxInlineDataIsRefused() throws VerbsException {
        Connection c = connect();
        MemoryRegion sendBuffer = c.client().register(arena, 4096, LOCAL);

        assertThatThrownBy(() -> c.client().qp().postSend(
                SendWorkRequest.send(1, List.of(ScatterGatherElement.of(sendBuffer, 0, 65))).inlined()))
                .isInstanceOf(InvalidWorkRequestException.class)
                .hasMessage("ibv_post_send: inline SEND of 65 bytes refused (max_inline_data 64, READ cannot be inline)");
    }

    @Test
    void postSendBeforeTheConnectionIsEstablishedIsRefused() throws VerbsException {
        Side client = newSide();
        Side server = newSide();
        var listenId = server.events().createId();
        listenId.listen(listenAddress(), 8);
        var id = ConnectionManagerConformance.routeResolved(client, listenId.localAddress());
        var qp = id.createQueuePair(client.pd(), client.attributes(4, 4));
        MemoryRegion sendBuffer = client.register(arena, 64, LOCAL);

        assertThat(qp.state()).isEqualTo(QpState.INIT);
        assertThatThrownBy(() -> qp.postSend(SendWorkRequest.send(1, List.of(ScatterGatherElement.of(sendBuffer, 0, 8)))))
                .isInstanceOf(InvalidWorkRequestException.class)
                .hasMessage("ibv_post_send: queue pair " + qp.qpNumber() + " is in state INIT; sends need RTS");
    }

    @Test
    void postSendBeyondTheSendQueueDepthIsRefused() throws VerbsException {
        ConnectionParameters patient = ConnectionParameters.of(new byte[8]).withRnrRetryCount(7);
        Connection c = connect(patient, patient, 2, 2);
        MemoryRegion sendBuffer = c.client().register(arena, 64, LOCAL);
        List<ScatterGatherElement> sge = List.of(ScatterGatherElement.of(sendBuffer, 0, 8));
        // No receive on the server: both SENDs stay outstanding, RNR-retried forever.
        c.client().qp().postSend(SendWorkRequest.send(1, sge));
        c.client().qp().postSend(SendWorkRequest.send(2, sge));

        assertThatThrownBy(() -> c.client().qp().postSend(SendWorkRequest.send(3, sge)))
                .isInstanceOf(InvalidWorkRequestException.class)
                .hasMessage("ibv_post_send: send queue of queue pair " + c.client().qp().qpNumber()
                        + " is full (2 outstanding work requests)");
    }

    @Test
    void receiveIntoARegionWithoutLocalWriteFailsBothSides() throws VerbsException {
        Connection c = connect();
        MemoryRegion readOnly = c.server().register(arena, 64, Set.of());
        c.server().qp().postReceive(ReceiveWorkRequest.of(1, ScatterGatherElement.of(readOnly, 0, 64)));
        MemoryRegion sendBuffer = c.client().register(arena, 64, LOCAL);

        c.client().qp().postSend(SendWorkRequest.send(2, List.of(ScatterGatherElement.of(sendBuffer, 0, 8))));

        List<Wc> received = c.server().await(c.server().receiveCq(), 1);
        assertThat(received).extracting(Wc::wrId).containsExactly(1L);
        assertStatus(c.server(), received.getFirst(), WcStatus.LOC_PROT_ERR,
                KnownDeviation.LOCAL_ERRORS_AS_LOC_QP_OP_ERR);
        assertThat(c.client().await(c.client().sendCq(), 1)).extracting(Wc::idAndStatus)
                .containsExactly("2:REM_OP_ERR");
    }

    @Test
    void postSendWithMoreSgesThanTheQueuePairAllowsIsRefused() throws VerbsException {
        Connection c = connect();
        MemoryRegion sendBuffer = c.client().register(arena, 64, LOCAL);
        ScatterGatherElement sge = ScatterGatherElement.of(sendBuffer, 0, 1);

        assertThatThrownBy(() -> c.client().qp().postSend(SendWorkRequest.send(1, List.of(sge, sge, sge, sge, sge))))
                .isInstanceOf(InvalidWorkRequestException.class)
                .hasMessage("ibv_post_send: 5 SGEs exceed max_send_sge 4 of queue pair " + c.client().qp().qpNumber());
    }

    @Test
    void sendFromAnUnknownLkeyFailsWithLocalProtectionError() throws VerbsException {
        Connection c = connect();
        MemoryRegion sendBuffer = c.client().register(arena, 64, LOCAL);

        c.client().qp().postSend(SendWorkRequest.send(1,
                List.of(new ScatterGatherElement(sendBuffer.address(), 8, sendBuffer.lkey() + 1000))));

        List<Wc> sent = c.client().await(c.client().sendCq(), 1);
        assertThat(sent).extracting(Wc::wrId).containsExactly(1L);
        assertStatus(c.client(), sent.getFirst(), WcStatus.LOC_PROT_ERR, KnownDeviation.LOCAL_ERRORS_AS_LOC_QP_OP_ERR);
        assertThat(c.client().qp().state()).isEqualTo(QpState.ERR);
    }
}
