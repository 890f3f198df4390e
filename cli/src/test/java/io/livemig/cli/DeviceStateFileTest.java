package io.livemig.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.livemig.migration.stream.DeviceState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The device-state file: QEMU's stream header, the configuration section, then the tail as QEMU sent it. */
class DeviceStateFileTest {

    @TempDir
    Path dir;

    @Test
    void writesHeaderConfigurationAndTailExactly() throws Exception {
        Path file = dir.resolve("vm.state");
        new DeviceStateFile("none", new byte[] {0x04, 0x00, 0x06}).write(file);
        assertThat(HexFormat.of().formatHex(Files.readAllBytes(file)))
                .isEqualTo("5145564d00000003" + "07" + "00000004" + "6e6f6e65" + "040006");
        assertThat(DeviceStateFile.read(file)).isEqualTo(new DeviceStateFile("none", new byte[] {0x04, 0x00, 0x06}));
    }

    @Test
    void loadsQemusNoneTailAndWritesItBackByteForByte() throws Exception {
        Path file = dir.resolve("none.state");
        byte[] fixture = DestinationCommandTest.fixture("none.state");
        Files.write(file, fixture);
        DeviceState state = DeviceStateFile.load(file);
        assertThat(state.machine()).isEqualTo("none");
        assertThat(state.size()).isEqualTo(674);
        assertThat(state.sections()).extracting(DeviceState.Section::idstr).containsExactly("timer", "globalstate");
        assertThat(DeviceStateFile.of(state).toBytes()).isEqualTo(fixture);
    }

    @Test
    void aTruncatedTailIsRefusedNamingTheFile() throws Exception {
        Path file = dir.resolve("cut.state");
        byte[] fixture = DestinationCommandTest.fixture("none.state");
        Files.write(file, Arrays.copyOf(fixture, fixture.length - 100));
        assertThatThrownBy(() -> DeviceStateFile.load(file)).isInstanceOf(CommandFailure.class)
                .hasMessageStartingWith("--device-state " + file + ": ");
    }

    @Test
    void aFileWithoutConfigurationOrWithAShortNameIsNotADeviceStateFile() throws Exception {
        Path file = dir.resolve("bad.state");
        Files.write(file, HexFormat.of().parseHex("5145564d00000003" + "01"));
        assertThatThrownBy(() -> DeviceStateFile.read(file)).isInstanceOf(CommandFailure.class)
                .hasMessage("--device-state " + file + ": not a device-state file (livemig destination "
                        + "--save-device-state writes one): no configuration section after the header");
        Files.write(file, HexFormat.of().parseHex("5145564d00000003" + "07" + "00000010" + "6e6f6e65"));
        assertThatThrownBy(() -> DeviceStateFile.read(file)).isInstanceOf(CommandFailure.class)
                .hasMessage("--device-state " + file + ": not a device-state file (livemig destination "
                        + "--save-device-state writes one): a machine name of 16 bytes in a file of 17");
    }
}
