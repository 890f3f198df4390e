package io.livemig.migration.connection;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.transport.rdma.channel.RdmaConnectionRejectedException;
import io.livemig.transport.rdma.unix.Errno;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** What a failed connect tells the operator, by the way it failed. */
class SourceConnectionTest {

    private static final InetSocketAddress DESTINATION = InetSocketAddress.createUnresolved("dst.example", 29200);

    private static RdmaConnectionRejectedException rejected(int reason) {
        return new RdmaConnectionRejectedException("connection rejected by dst.example:29200: "
                + RdmaConnectionRejectedException.describe(reason), reason, new byte[0]);
    }

    @Test
    void aPortNobodyListensOnAsksWhetherTheDestinationRuns() {
        assertThat(SourceConnection.connectFailure(DESTINATION, rejected(8)))
                .hasMessage("nothing is listening on dst.example:29200 (is the destination running?)");
        assertThat(SourceConnection.connectFailure(DESTINATION, rejected(-Errno.ECONNREFUSED)))
                .hasMessage("nothing is listening on dst.example:29200 (is the destination running?)");
    }

    @Test
    void aRejectByTheDestinationSaysItRefused() {
        assertThat(SourceConnection.connectFailure(DESTINATION, rejected(28)))
                .hasMessage("the destination at dst.example:29200 refused the connection (reject reason 28)");
    }

    @Test
    void aLivemigDestinationsReasonIsReadEvenPaddedAsInfiniBandPadsIt() {
        byte[] authentication = java.util.Arrays.copyOf(RejectReason.AUTHENTICATION.toPrivateData(), 148);
        assertThat(SourceConnection.connectFailure(DESTINATION, new RdmaConnectionRejectedException("rejected", 28,
                authentication))).hasMessage("the destination at dst.example:29200 rejected the connection: "
                        + "authentication failed (check --auth-key-file on both ends)");
        assertThat(SourceConnection.connectFailure(DESTINATION, new RdmaConnectionRejectedException("rejected", 28,
                RejectReason.BUSY.toPrivateData())))
                .hasMessage("the destination at dst.example:29200 is busy with another migration");
        assertThat(SourceConnection.connectFailure(DESTINATION, new RdmaConnectionRejectedException("rejected", 28,
                RejectReason.CAPABILITIES.toPrivateData()))).hasMessage("the destination at dst.example:29200 "
                        + "rejected the connection: unsupported RDMA capabilities");
        assertThat(RejectReason.AUTHENTICATION.toPrivateData()).containsExactly(0x4c, 0x4d, 0x52, 0x4a, 2);
        assertThat(RejectReason.read(new byte[] {0x4c, 0x4d, 0x52, 0x4a, 9})).isNull();
        assertThat(RejectReason.read(new byte[148])).isNull();
    }

    @Test
    void anotherRejectNamesItsReason() {
        assertThat(SourceConnection.connectFailure(DESTINATION, rejected(3)))
                .hasMessage("cannot connect to dst.example:29200: rejected: no resources available (reject reason 3)");
    }

    @Test
    void anyOtherFailureKeepsItsOwnMessage() {
        assertThat(SourceConnection.connectFailure(InetSocketAddress.createUnresolved("fe80::1", 29200),
                new ConnectException("UNREACHABLE (status -110) for fe80::1")))
                .hasMessage("cannot connect to [fe80::1]:29200: UNREACHABLE (status -110) for fe80::1");
    }
}
