package io.livemig.transport.rdma.verbs.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.transport.rdma.verbs.AccessFlag;
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

/** Conformance of one-sided operations: placement, rkey/bounds/access checks, immediate data, ordering, dereg. */
public abstract class RdmaWriteReadConformance extends VerbsConformanceBase {

    private static final Set<AccessFlag> LOCAL = Set.of(AccessFlag.LOCAL_WRITE);
    private static final Set<AccessFlag> REMOTE_WRITABLE = Set.of(AccessFlag.LOCAL_WRITE, AccessFlag.REMOTE_WRITE);
    private static final Set<AccessFlag> REMOTE_READABLE = Set.of(AccessFlag.REMOTE_READ);
    private static final int MIB = 1 << 20;

    @Test
    void writeCompletionMeansTheBytesArePlacedInTheResponderMemory() throws VerbsException {
        // Large enough that placing it takes longer than an acknowledgement's round trip would.
        int length = 32 * MIB;
        Connection c = connect();
        MemoryRegion target = c.server().register(arena, length, REMOTE_WRITABLE);
        MemoryRegion source = c.client().register(arena, length, LOCAL);
        fillPattern(source.segment(), 3);

        c.client().qp().postSend(SendWorkRequest.rdmaWrite(1, List.of(ScatterGatherElement.of(source, 0, length)),
                target.address(), target.rkey()));

        Wc wc = c.client().await(c.client().sendCq(), 1).getFirst();
        assertThat(wc.idAndStatus()).isEqualTo("1:SUCCESS");
        assertThat(wc.opcode()).isEqualTo(WcOpcode.RDMA_WRITE);
        assertThat(target.segment().mismatch(source.segment())).isEqualTo(-1L);
    }

    @Test
    void writeWithImmediateConsumesAReceiveAndReportsTheImmediate() throws VerbsException {
        Connection c = connect();
        MemoryRegion target = c.server().register(arena, 4096, REMOTE_WRITABLE);
        c.server().qp().postReceive(new ReceiveWorkRequest(77, List.of()));
        MemoryRegion source = c.client().register(arena, 4096, LOCAL);
        fillPattern(source.segment(), 5);

        c.client().qp().postSend(SendWorkRequest.rdmaWriteWithImmediate(1,
                List.of(ScatterGatherElement.of(source, 0, 100)), target.address() + 50, target.rkey(), 42));

        Wc received = c.server().await(c.server().receiveCq(), 1).getFirst();
        assertThat(received).isEqualTo(new Wc(77, WcStatus.SUCCESS, WcOpcode.RECV_RDMA_WITH_IMM, 100, 42, true));
        assertThat(target.segment().asSlice(50, 100).mismatch(source.segment().asSlice(0, 100))).isEqualTo(-1L);
        assertThat(c.client().await(c.client().sendCq(), 1)).extracting(Wc::idAndStatus).containsExactly("1:SUCCESS");
    }

    @Test
    void writeBeyondTheRegionFailsWithRemoteAccessErrorAndPlacesNothing() throws VerbsException {
        Connection c = connect();
        MemoryRegion target = c.server().register(arena, 4096, REMOTE_WRITABLE);
        MemoryRegion source = c.client().register(arena, 4096, LOCAL);
        source.segment().fill((byte) 7);

        c.client().qp().postSend(SendWorkRequest.rdmaWrite(1, List.of(ScatterGatherElement.of(source, 0, 100)),
                target.address() + 4000, target.rkey()));
        c.client().qp().postSend(SendWorkRequest.rdmaWrite(2, List.of(ScatterGatherElement.of(source, 0, 10)),
                target.address(), target.rkey()));

        assertThat(c.client().await(c.client().sendCq(), 2)).extracting(Wc::idAndStatus)
                .containsExactly("1:REM_ACCESS_ERR", "2:WR_FLUSH_ERR");
        assertThat(c.client().qp().state()).isEqualTo(QpState.ERR);
        assertThat(target.segment().asSlice(4000, 96).toArray(ValueLayout.JAVA_BYTE)).containsOnly(0);
    }

    @Test
    void writeWithAnUnknownRkeyFailsWithRemoteAccessError() throws VerbsException {
        Connection c = connect();
        MemoryRegion target = c.server().register(arena, 4096, REMOTE_WRITABLE);
        MemoryRegion source = c.client().register(arena, 4096, LOCAL);

        c.client().qp().postSend(SendWorkRequest.rdmaWrite(1, List.of(ScatterGatherElement.of(source, 0, 8)),
                target.address(), target.rkey() ^ 0x7F));

        assertThat(c.client().await(c.client().sendCq(), 1)).extracting(Wc::idAndStatus)
                .containsExactly("1:REM_ACCESS_ERR");
    }

    @Test
    void writeToARegionWithoutRemoteWriteFailsWithRemoteAccessError() throws VerbsException {
        Connection c = connect();
        MemoryRegion target = c.server().register(arena, 4096, Set.of(AccessFlag.LOCAL_WRITE, AccessFlag.REMOTE_READ));
        MemoryRegion source = c.client().register(arena, 4096, LOCAL);

        c.client().qp().postSend(SendWorkRequest.rdmaWrite(1, List.of(ScatterGatherElement.of(source, 0, 8)),
                target.address(), target.rkey()));

        assertThat(c.client().await(c.client().sendCq(), 1)).extracting(Wc::idAndStatus)
                .containsExactly("1:REM_ACCESS_ERR");
    }

    @Test
    void readFetchesTheRemoteBytesIntoTheLocalScatterList() throws VerbsException {
        Connection c = connect();
        MemoryRegion remote = c.server().register(arena, 64 * 1024, REMOTE_READABLE);
        fillPattern(remote.segment(), 11);
        MemoryRegion local = c.client().register(arena, 64 * 1024, LOCAL);

        c.client().qp().postSend(SendWorkRequest.rdmaRead(1, List.of(ScatterGatherElement.of(local, 0, 1000),
                ScatterGatherElement.of(local, 2000, 24)), remote.address() + 10, remote.rkey()));

        Wc wc = c.client().await(c.client().sendCq(), 1).getFirst();
        assertThat(wc).isEqualTo(new Wc(1, WcStatus.SUCCESS, WcOpcode.RDMA_READ, 1024, 0, false));
        assertThat(local.segment().asSlice(0, 1000).mismatch(remote.segment().asSlice(10, 1000))).isEqualTo(-1L);
        assertThat(local.segment().asSlice(2000, 24).mismatch(remote.segment().asSlice(1010, 24))).isEqualTo(-1L);
    }

    @Test
    void readBeyondTheRegionFailsWithRemoteAccessError() throws VerbsException {
        Connection c = connect();
        MemoryRegion remote = c.server().register(arena, 4096, REMOTE_READABLE);
        MemoryRegion local = c.client().register(arena, 8192, LOCAL);

        c.client().qp().postSend(SendWorkRequest.rdmaRead(1, List.of(ScatterGatherElement.of(local, 0, 4097)),
                remote.address(), remote.rkey()));

        assertThat(c.client().await(c.client().sendCq(), 1)).extracting(Wc::idAndStatus)
                .containsExactly("1:REM_ACCESS_ERR");
    }

    @Test
    void readFromARegionWithoutRemoteReadFailsWithRemoteAccessError() throws VerbsException {
        Connection c = connect();
        MemoryRegion remote = c.server().register(arena, 4096, REMOTE_WRITABLE);
        MemoryRegion local = c.client().register(arena, 4096, LOCAL);

        c.client().qp().postSend(SendWorkRequest.rdmaRead(1, List.of(ScatterGatherElement.of(local, 0, 8)),
                remote.address(), remote.rkey()));

        assertThat(c.client().await(c.client().sendCq(), 1)).extracting(Wc::idAndStatus)
                .containsExactly("1:REM_ACCESS_ERR");
    }

    @Test
    void readIntoALocalRegionWithoutLocalWriteFailsWithLocalProtectionError() throws VerbsException {
        Connection c = connect();
        MemoryRegion remote = c.server().register(arena, 4096, REMOTE_READABLE);
        MemoryRegion readOnly = c.client().register(arena, 4096, Set.of());

        c.client().qp().postSend(SendWorkRequest.rdmaRead(1, List.of(ScatterGatherElement.of(readOnly, 0, 8)),
                remote.address(), remote.rkey()));

        assertThat(c.client().await(c.client().sendCq(), 1)).extracting(Wc::idAndStatus)
                .containsExactly("1:LOC_PROT_ERR");
    }

    @Test
    void sendNeverOvertakesAnEarlierWrite() throws VerbsException {
        Connection c = connect();
        MemoryRegion target = c.server().register(arena, 4 * MIB, REMOTE_WRITABLE);
        MemoryRegion control = c.server().register(arena, 64, LOCAL);
        c.server().qp().postReceive(ReceiveWorkRequest.of(1, ScatterGatherElement.of(control, 0, 64)));
        MemoryRegion source = c.client().register(arena, 4 * MIB, LOCAL);
        fillPattern(source.segment(), 17);

        for (int i = 0; i < 4; i++) {
            c.client().qp().postSend(SendWorkRequest.rdmaWrite(i, List.of(ScatterGatherElement.of(source,
                    (long) i * MIB, MIB)), target.address() + (long) i * MIB, target.rkey()).unsignaled());
        }
        c.client().qp().postSend(SendWorkRequest.send(9, List.of(ScatterGatherElement.of(source, 0, 8))));

        c.server().await(c.server().receiveCq(), 1);
        // QEMU trusts its RAM once REGISTER FINISHED (a SEND) arrives: every earlier WRITE must be placed by now.
        assertThat(target.segment().mismatch(source.segment())).isEqualTo(-1L);
    }

    @Test
    void deregisteringARegionMakesLaterWritesFailWithRemoteAccessError() throws VerbsException {
        Connection c = connect();
        MemoryRegion target = c.server().register(arena, 64 * 1024, REMOTE_WRITABLE);
        MemoryRegion source = c.client().register(arena, 64 * 1024, LOCAL);
        fillPattern(source.segment(), 23);
        c.client().qp().postSend(SendWorkRequest.rdmaWrite(1, List.of(ScatterGatherElement.of(source, 0, 4096)),
                target.address(), target.rkey()));
        assertThat(c.client().await(c.client().sendCq(), 1)).extracting(Wc::idAndStatus).containsExactly("1:SUCCESS");

        target.deregister();
        target.segment().fill((byte) 0);
        c.client().qp().postSend(SendWorkRequest.rdmaWrite(2, List.of(ScatterGatherElement.of(source, 0, 4096)),
                target.address(), target.rkey()));

        assertThat(c.client().await(c.client().sendCq(), 1)).extracting(Wc::idAndStatus)
                .containsExactly("2:REM_ACCESS_ERR");
        assertThat(target.isRegistered()).isFalse();
        assertThat(target.segment().asSlice(0, 4096).toArray(ValueLayout.JAVA_BYTE)).containsOnly(0);
    }

    @Test
    void deregisteringWhileWritesStreamNeverLetsAWriteLandAfterDeregistrationReturns() throws VerbsException {
        Connection c = connect();
        MemoryRegion target = c.server().register(arena, MIB, REMOTE_WRITABLE);
        MemoryRegion source = c.client().register(arena, MIB, LOCAL);
        source.segment().fill((byte) 1);
        int posted = 48;
        for (int i = 0; i < posted; i++) {
            c.client().qp().postSend(SendWorkRequest.rdmaWrite(i, List.of(ScatterGatherElement.of(source, 0, MIB)),
                    target.address(), target.rkey()));
        }

        target.deregister();
        target.segment().fill((byte) 0);

        List<Wc> completions = c.client().await(c.client().sendCq(), posted);
        assertThat(completions).extracting(Wc::status)
                .allMatch(s -> s == WcStatus.SUCCESS || s == WcStatus.REM_ACCESS_ERR || s == WcStatus.WR_FLUSH_ERR);
        assertThat(target.segment().toArray(ValueLayout.JAVA_BYTE)).containsOnly(0);
    }

    private static void fillPattern(MemorySegment segment, int seed) {
        for (long i = 0; i < segment.byteSize(); i += 8) {
            segment.set(ValueLayout.JAVA_LONG_UNALIGNED, i, (i + 1) * 0x9E3779B97F4A7C15L + seed);
        }
    }
}
