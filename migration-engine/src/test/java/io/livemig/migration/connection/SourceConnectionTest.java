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
