package io.livemig.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ByteSizeTest {

    @Test
    void readsBinarySuffixesInEitherCase() {
        assertThat(ByteSize.parse("4096")).isEqualTo(4096);
        assertThat(ByteSize.parse("256M")).isEqualTo(256L << 20);
        assertThat(ByteSize.parse("1g")).isEqualTo(1L << 30);
        assertThat(ByteSize.parse("2KiB")).isEqualTo(2048);
        assertThat(ByteSize.parse("3GB")).isEqualTo(3L << 30);
        assertThat(ByteSize.parse("1T")).isEqualTo(1L << 40);
    }

    @Test
    void readsRatesPerSecond() {
        assertThat(ByteSize.parse("32m")).isEqualTo(32L << 20);
        assertThat(ByteSize.parse("32m/s")).isEqualTo(32L << 20);
    }

    @Test
    void rejectsWhatIsNotASize() {
        assertThatThrownBy(() -> ByteSize.parse("1x")).hasMessage("invalid size '1x': expected a whole number with "
                + "an optional K, M, G or T suffix (e.g. 256M)");
        assertThatThrownBy(() -> ByteSize.parse("")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ByteSize.parse("-1M")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ByteSize.parse("99999999999T")).hasMessageContaining("too large");
    }

    @Test
    void formatsForPeople() {
        assertThat(ByteSize.format(512)).isEqualTo("512 B");
        assertThat(ByteSize.format(256L << 20)).isEqualTo("256.0 MiB");
        assertThat(ByteSize.format(3L << 29)).isEqualTo("1.5 GiB");
    }
}
