package io.livemig.transport.rdma.unix;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class NativeIoExceptionTest {

    @Test
    void messageNamesCallErrnoAndDescription() {
        NativeIoException e = new NativeIoException("eventfd", Errno.EMFILE);

        assertThat(e).hasMessage("eventfd failed: EMFILE (Too many open files)");
        assertThat(e.call()).isEqualTo("eventfd");
        assertThat(e.errno()).isEqualTo(24);
    }

    @Test
    void unknownErrnoStillReadsWell() {
        assertThat(new NativeIoException("ibv_post_send", 200))
                .hasMessage("ibv_post_send failed: errno 200 (Unknown error 200)");
    }

    @Test
    void enotsupIsEopnotsupp() {
        assertThat(Errno.ENOTSUP).isEqualTo(Errno.EOPNOTSUPP);
        assertThat(Errno.name(Errno.ENOTSUP)).isEqualTo("EOPNOTSUPP");
    }
}
