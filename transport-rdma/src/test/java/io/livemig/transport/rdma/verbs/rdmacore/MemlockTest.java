package io.livemig.transport.rdma.verbs.rdmacore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.livemig.transport.rdma.verbs.VerbsException;
import org.junit.jupiter.api.Test;

/** RLIMIT_MEMLOCK through FFM and the error a registration beyond it gets. */
class MemlockTest {

    @Test
    void readsTheSoftAndHardLimit() throws VerbsException {
        long[] limits = Memlock.limits();

        assertThat(limits).hasSize(2);
        assertThat(Long.compareUnsigned(limits[0], limits[1])).isLessThanOrEqualTo(0);
    }

    @Test
    void raisingTheSoftLimitReachesTheHardLimit() throws VerbsException {
        assertThat(Memlock.raiseSoftLimit()).isEqualTo(Memlock.limits()[1]);
    }

    @Test
    void cannotPinMessageSaysHowMuchTheLimitAndWhatToDo() {
        assertThat(Memlock.cannotPin(1L << 30, 65536).getMessage())
                .startsWith("cannot pin 1073741824 bytes: RLIMIT_MEMLOCK is 65536; raise ulimit -l");
    }

    @Test
    void checkRefusesMoreThanTheLimitUnlessTheProcessMayLockMemory() throws VerbsException {
        long soft = Memlock.limits()[0];
        assumeTrue(soft != Memlock.RLIM_INFINITY && !Memlock.hasIpcLock(), "memlock is unlimited for this process");

        assertThatThrownBy(() -> Memlock.checkCanPin(soft + 1))
                .isInstanceOf(VerbsException.class)
                .hasMessageStartingWith("cannot pin " + (soft + 1) + " bytes: RLIMIT_MEMLOCK is " + soft
                        + "; raise ulimit -l");
    }
}
