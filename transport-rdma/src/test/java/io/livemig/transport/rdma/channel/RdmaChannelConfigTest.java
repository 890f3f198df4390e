package io.livemig.transport.rdma.channel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The channel options that size a connection's rings, without opening a device. */
class RdmaChannelConfigTest {

    @Test
    void sendSlotsDefaultToTheSendQueueDepthAndNeverExceedIt() {
        RdmaChannelConfig config = new RdmaChannel().config();
        assertThat(config.getOption(RdmaChannelOption.SEND_BUFFER_COUNT)).isEqualTo(128);
        config.setOption(RdmaChannelOption.SEND_QUEUE_DEPTH, 32);
        assertThat(config.getSendBufferCount()).isEqualTo(32);
        config.setOption(RdmaChannelOption.SEND_BUFFER_COUNT, 2);
        assertThat(config.getSendBufferCount()).isEqualTo(2);
        config.setOption(RdmaChannelOption.SEND_BUFFER_COUNT, 500);
        assertThat(config.getSendBufferCount()).isEqualTo(32);
        config.setOption(RdmaChannelOption.SEND_BUFFER_COUNT, 0);
        assertThat(config.getSendBufferCount()).isEqualTo(32);
        assertThat(config.getOptions()).containsEntry(RdmaChannelOption.SEND_BUFFER_COUNT, 32);
    }

    @Test
    void oneSidedIsOffByDefaultAndListed() {
        RdmaChannelConfig config = new RdmaChannel().config();
        assertThat(config.isOneSided()).isFalse();
        config.setOption(RdmaChannelOption.ONE_SIDED, true);
        assertThat(config.getOptions()).containsEntry(RdmaChannelOption.ONE_SIDED, true);
    }

    @Test
    void aNegativeSendSlotCountIsRefused() {
        RdmaChannelConfig config = new RdmaChannel().config();
        assertThatThrownBy(() -> config.setOption(RdmaChannelOption.SEND_BUFFER_COUNT, -1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("SEND_BUFFER_COUNT must be >= 0: -1");
    }
}
