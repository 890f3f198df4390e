package io.livemig.migration.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** QEMU's {@code qemu_strtosz_MiB} as HMP's {@code max-bandwidth} reads it. */
class QemuSizeTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "40g, 42949672960",
        "40G, 42949672960",
        "40, 41943040",
        "1k, 1024",
        "1K, 1024",
        "1b, 1",
        "512B, 512",
        "1m, 1048576",
        "1t, 1099511627776",
        "1p, 1125899906842624",
        "1e, 1152921504606846976",
        "1.5g, 1610612736",
        "1.5, 1572864",
        "1.5k, 1536",
        "0.5k, 512",
        "1., 1048576",
        "0, 0",
        "0g, 0",
        "007, 7340032",
        "8796093022207, 9223372036853727232",
    })
    void readsSizesAsQemuDoes(String text, long bytes) {
        assertThat(QemuSize.parseMiB(text)).isEqualTo(bytes);
    }

    @ParameterizedTest
    @ValueSource(strings = {"abc", "-1", "40x", "1e3", "0x10", "", "g", ".5", "1.5b", "1kb", "+1", " 1", "1 ",
        "8e", "8796093022208", "99999999999999999999", "1..5"})
    void refusesWhatQemuRefusesWithItsText(String text) {
        assertThatThrownBy(() -> QemuSize.parseMiB(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Invalid size " + text);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({"300, 300", "1k, 1024", "2m, 2097152"})
    void bareNumbersAreBytesWithTheByteUnit(String text, long bytes) {
        assertThat(QemuSize.parse(text, QemuSize.BYTES)).isEqualTo(bytes);
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.5", "0.5"})
    void aFractionNeedsAUnitAboveAByte(String text) {
        assertThatThrownBy(() -> QemuSize.parse(text, QemuSize.BYTES)).hasMessage("Invalid size " + text);
    }
}
