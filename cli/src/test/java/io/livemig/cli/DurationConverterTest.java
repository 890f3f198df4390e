package io.livemig.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class DurationConverterTest {

    private final DurationConverter converter = new DurationConverter();

    @Test
    void readsSecondsAndUnits() {
        assertThat(converter.convert("0")).isEqualTo(Duration.ZERO);
        assertThat(converter.convert("30")).isEqualTo(Duration.ofSeconds(30));
        assertThat(converter.convert("30s")).isEqualTo(Duration.ofSeconds(30));
        assertThat(converter.convert("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(converter.convert("2M")).isEqualTo(Duration.ofMinutes(2));
        assertThat(converter.convert("1h")).isEqualTo(Duration.ofHours(1));
    }

    @Test
    void refusesNegativesFractionsAndOtherUnits() {
        for (String value : new String[] {"-1", "1.5s", "3d", "", "s", "PT5S"}) {
            assertThatThrownBy(() -> converter.convert(value)).as(value)
                    .isInstanceOf(CommandLine.TypeConversionException.class)
                    .hasMessage("'" + value + "' is not a duration: give seconds (30) or a whole number with ms, s, "
                            + "m or h (500ms, 2m)");
        }
    }

    @Test
    void formatsAsItReads() {
        assertThat(DurationConverter.format(Duration.ofSeconds(30))).isEqualTo("30s");
        assertThat(DurationConverter.format(Duration.ofMillis(1500))).isEqualTo("1.5s");
        assertThat(DurationConverter.format(Duration.ofMillis(250))).isEqualTo("250ms");
        assertThat(DurationConverter.format(Duration.ofMinutes(10))).isEqualTo("600s");
    }
}
