package io.livemig.transport.rdma.unix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import org.junit.jupiter.api.Test;

class NativeTest {

    @Test
    void isAvailableOnThisLinuxMachine() {
        assertThat(Native.unavailabilityCause()).isNull();
        assertThat(Native.isAvailable()).isTrue();
        assertThatCode(Native::ensureAvailability).doesNotThrowAnyException();
    }
}
