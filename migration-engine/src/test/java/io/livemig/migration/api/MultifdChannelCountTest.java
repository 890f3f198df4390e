package io.livemig.migration.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.livemig.migration.ram.RamBlocks;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How many {@code multifd} channels a migration opens for its RAM (SourceController.Builder.multifdChannelBytes). */
class MultifdChannelCountTest {

    private static final long MIB = 1L << 20;

    @Test
    void oneChannelPerMultifdChannelBytesOfRamAndAtLeastOne() {
        long perChannel = SourceController.DEFAULT_MULTIFD_CHANNEL_BYTES;
        assertThat(perChannel).isEqualTo(64 * MIB);
        assertThat(SourceMigration.multifdChannels(0, perChannel)).isEqualTo(1);
        assertThat(SourceMigration.multifdChannels(19 * MIB, perChannel)).isEqualTo(1);
        assertThat(SourceMigration.multifdChannels(64 * MIB - 1, perChannel)).isEqualTo(1);
        assertThat(SourceMigration.multifdChannels(128 * MIB - 1, perChannel)).isEqualTo(1);
        assertThat(SourceMigration.multifdChannels(128 * MIB, perChannel)).isEqualTo(2);
        assertThat(SourceMigration.multifdChannels(1L << 30, perChannel)).isEqualTo(16);
        // The connection caps it at multifd-channels; here only the int range.
        assertThat(SourceMigration.multifdChannels(Long.MAX_VALUE, 1)).isEqualTo(Integer.MAX_VALUE);
    }

    @Test
    void zeroBytesPerChannelOpensEveryChannel() {
        assertThat(SourceMigration.multifdChannels(4096, 0)).isEqualTo(Integer.MAX_VALUE);
    }

    @Test
    void aNegativeSizeIsRefused() {
        try (RamBlocks blocks = RamBlocks.of(List.of())) {
            assertThatThrownBy(() -> SourceController.builder(blocks).multifdChannelBytes(-1))
                    .isInstanceOf(IllegalArgumentException.class).hasMessage("multifdChannelBytes must be >= 0: -1");
        }
    }
}
