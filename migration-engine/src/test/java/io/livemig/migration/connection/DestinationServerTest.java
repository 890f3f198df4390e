package io.livemig.migration.connection;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.transport.rdma.unix.Errno;
import io.livemig.transport.rdma.unix.NativeIoException;
import io.livemig.transport.rdma.verbs.VerbsException;
import java.io.IOException;
import java.net.BindException;
import org.junit.jupiter.api.Test;

/** Why a bind failed, as the one "cannot listen" sentence ends. */
class DestinationServerTest {

    @Test
    void theReasonIsTheErrnosDescriptionWhereTheProviderHadOne() {
        NativeIoException errno = new NativeIoException("rdma_bind_addr", Errno.EADDRINUSE);
        assertThat(DestinationServer.reason(new IOException(new VerbsException(errno.getMessage(), errno))))
                .isEqualTo("address already in use");
    }

    @Test
    void otherwiseTheInnermostMessageStartingInLowerCase() {
        BindException bind = new BindException("Cannot assign requested address");
        assertThat(DestinationServer.reason(new VerbsException("rdma_bind_addr failed: " + bind.getMessage(), bind)))
                .isEqualTo("cannot assign requested address");
        // An acronym keeps its capitals.
        assertThat(DestinationServer.reason(new IOException("ENODEV: no device"))).isEqualTo("ENODEV: no device");
        assertThat(DestinationServer.reason(new IOException((String) null))).isEqualTo("IOException");
    }
}
