package io.livemig.migration.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Monitor addresses as {@code -qmp}/{@code -monitor} take them. */
class MonitorAddressTest {

    @Test
    void readsUnixAndTcpAddresses() {
        assertThat(MonitorAddress.parse("unix:/tmp/qmp.sock")).isEqualTo(new MonitorAddress(Path.of("/tmp/qmp.sock"),
                null, 0));
        assertThat(MonitorAddress.parse("tcp:127.0.0.1:4444")).isEqualTo(new MonitorAddress(null, "127.0.0.1", 4444));
        assertThat(MonitorAddress.parse("tcp:[::1]:0")).isEqualTo(new MonitorAddress(null, "::1", 0));
        assertThat(MonitorAddress.parse("tcp:0.0.0.0:4444")).isEqualTo(new MonitorAddress(null, "0.0.0.0", 4444));
    }

    @Test
    void withoutAHostATcpMonitorListensOnLoopbackOnly() {
        assertThat(MonitorAddress.parse("tcp:4444")).isEqualTo(new MonitorAddress(null, "127.0.0.1", 4444));
        assertThat(MonitorAddress.parse("tcp::4444")).isEqualTo(new MonitorAddress(null, "127.0.0.1", 4444));
        assertThat(MonitorAddress.parse("tcp::1,server=on,wait=off")).isEqualTo(new MonitorAddress(null, "127.0.0.1", 1));
    }

    @Test
    void ignoresQemusServerAndWaitOptions() {
        assertThat(MonitorAddress.parse("unix:/tmp/q,server=on,wait=off").unixPath()).isEqualTo(Path.of("/tmp/q"));
        assertThat(MonitorAddress.parse("tcp:localhost:4444,server,nowait").port()).isEqualTo(4444);
    }

    @ParameterizedTest
    @ValueSource(strings = {"unix:", "tcp:host", "tcp:", "tcp:[]", "tcp:host:x", "tcp:host:70000", "udp:h:1", "/tmp/sock",
        "tcp:h:1,reconnect=1"})
    void refusesMalformedAddresses(String address) {
        assertThatThrownBy(() -> MonitorAddress.parse(address)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(address).hasMessageEndingWith("expected unix:PATH or tcp:HOST:PORT");
    }
}
