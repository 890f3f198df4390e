package io.livemig.migration.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Spec sections 3.1, 3.2 and 13.2. */
class ControlHeaderTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            READY                      | 0     | READY               | 1 | 00000000 00000002 00000001 00000000
            ERROR                      | 0     | ERROR               | 1 | 00000000 00000001 00000001 00000000
            RAM BLOCKS REQUEST         | 0     | RAM_BLOCKS_REQUEST  | 1 | 00000000 00000004 00000001 00000000
            RAM BLOCKS RESULT 2 blocks | 64    | RAM_BLOCKS_RESULT   | 1 | 00000040 00000005 00000001 00000000
            COMPRESS                   | 24    | COMPRESS            | 1 | 00000018 00000006 00000001 00000000
            REGISTER REQUEST           | 24    | REGISTER_REQUEST    | 1 | 00000018 00000007 00000001 00000000
            REGISTER RESULT            | 16    | REGISTER_RESULT     | 1 | 00000010 00000008 00000001 00000000
            REGISTER FINISHED          | 0     | REGISTER_FINISHED   | 1 | 00000000 00000009 00000001 00000000
            UNREGISTER REQUEST         | 24    | UNREGISTER_REQUEST  | 1 | 00000018 0000000a 00000001 00000000
            UNREGISTER FINISHED        | 0     | UNREGISTER_FINISHED | 1 | 00000000 0000000b 00000001 00000000
            QEMU FILE 8 bytes          | 8     | QEMU_FILE           | 0 | 00000008 00000003 00000000 00000000
            QEMU FILE maximum          | 32768 | QEMU_FILE           | 0 | 00008000 00000003 00000000 00000000
            """)
    void headerVectorsEncodeAndDecodeByteForByte(String name, int len, ControlType type, int repeat, String hex) {
        ControlHeader header = new ControlHeader(len, type, repeat);
        assertThat(Hex.encode(header::encode)).isEqualTo(Hex.plain(hex));
        assertThat(ControlHeader.decode(Hex.buf(hex))).isEqualTo(header);
    }

    @Test
    void typeValuesAndDisplayNamesFollowQemu() {
        assertThat(ControlType.values()).extracting(ControlType::value)
                .containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
        assertThat(ControlType.values()).extracting(ControlType::displayName).containsExactly("NONE", "ERROR",
                "READY", "QEMU FILE", "RAM BLOCKS REQUEST", "RAM BLOCKS RESULT", "COMPRESS", "REGISTER REQUEST",
                "REGISTER RESULT", "REGISTER FINISHED", "UNREGISTER REQUEST", "UNREGISTER FINISHED");
        assertThat(ControlType.REGISTER_RESULT).hasToString("REGISTER RESULT (8)");
    }

    @Test
    void paddingIsIgnoredOnDecode() {
        assertThat(ControlHeader.decode(Hex.buf("00000000 00000002 00000001 aaaaaaaa")))
                .isEqualTo(new ControlHeader(0, ControlType.READY, 1));
    }

    @Test
    void rejectsLengthAboveTheControlBuffer() {
        assertThat(ControlHeader.MAX_PAYLOAD_LENGTH).isEqualTo(524272);
        assertThat(ControlHeader.decode(Hex.buf("0007fff0 00000003 00000000 00000000")).length()).isEqualTo(524272);
        assertThatThrownBy(() -> ControlHeader.decode(Hex.buf("0007fff1 00000003 00000000 00000000")))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("control message too long: length 524273 exceeds the maximum 524272");
    }

    @Test
    void rejectsUnknownType() {
        assertThatThrownBy(() -> ControlHeader.decode(Hex.buf("00000000 0000000c 00000001 00000000")))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("unknown control message type 12 (known types are 0 to 11)");
    }

    @Test
    void rejectsTruncatedHeader() {
        assertThatThrownBy(() -> ControlHeader.decode(Hex.buf("00000000 00000002 0000")))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("truncated control header: 10 of 16 bytes");
    }

    @Test
    void refusesToBuildAHeaderWithAnImpossibleLength() {
        assertThatThrownBy(() -> new ControlHeader(524273, ControlType.QEMU_FILE, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("control payload length 524273 is outside 0..524272");
    }
}
