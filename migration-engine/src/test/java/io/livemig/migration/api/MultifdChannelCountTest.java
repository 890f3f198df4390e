package io.livemig.migration.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.livemig.migration.ram.RamBlocks;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How many {@code multifd} channels a migration opens for its RAM ({@link SourceController#multifdChannels}). */
class MultifdChannelCountTest {

    private static final long MIB = 1L << 20;

    @Test
    void oneChannelPerMultifdChannelBytesOfRamAndAtLeastOne() {
        long perChannel = SourceController.DEFAULT_MULTIFD_CHANNEL_BYTES;
        assertThat(perChannel).isEqualTo(64 * MIB);
        assertThat(SourceController.multifdChannels(0, perChannel, Integer.MAX_VALUE)).isEqualTo(1);
        assertThat(SourceController.multifdChannels(19 * MIB, perChannel, Integer.MAX_VALUE)).isEqualTo(1);
        assertThat(SourceController.multifdChannels(64 * MIB - 1, perChannel, Integer.MAX_VALUE)).isEqualTo(1);
        assertThat(SourceController.multifdChannels(128 * MIB - 1, perChannel, Integer.MAX_VALUE)).isEqualTo(1);
        assertThat(SourceController.multifdChannels(128 * MIB, perChannel, Integer.MAX_VALUE)).isEqualTo(2);
        assertThat(SourceController.multifdChannels(1L << 30, perChannel, Integer.MAX_VALUE)).isEqualTo(16);
        // At most multifd-channels, and within the int range.
        assertThat(SourceController.multifdChannels(1L << 30, perChannel, 2)).isEqualTo(2);
        assertThat(SourceController.multifdChannels(Long.MAX_VALUE, 1, Integer.MAX_VALUE))
                .isEqualTo(Integer.MAX_VALUE);
    }

    @Test
    void zeroBytesPerChannelOpensEveryChannel() {
        assertThat(SourceController.multifdChannels(4096, 0, Integer.MAX_VALUE)).isEqualTo(Integer.MAX_VALUE);
    }

    @Test
    void aNegativeSizeIsRefused() {
        try (RamBlocks blocks = RamBlocks.of(List.of())) {
            assertThatThrownBy(() -> SourceController.builder(blocks).multifdChannelBytes(-1))
                    .isInstanceOf(IllegalArgumentException.class).hasMessage("multifdChannelBytes must be >= 0: -1");
        }
    }
}
