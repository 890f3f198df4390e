package io.livemig.migration.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.ProtocolError;
import io.livemig.migration.protocol.ProtocolException;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * QEMU streams livemig refuses, each with a message naming the section: unknown versions, a cut-off or
 * altered device tail, another machine than the one expected, pages outside a block (refused before any
 * page event, so nothing is written).
 */
class QemuStreamRejectionTest {

    private static final long LIMIT = 1 << 20;

    @Test
    void rejectsARamSectionOfAnotherVersion() {
        byte[] stream = QemuCapture.load("none").bytes();
        // Header 8, configuration 9, then 01 be32 id 03 "ram" be32 instance: the version's last byte is at 33.
        assertThat(stream[33]).isEqualTo((byte) 4);
        stream[33] = 5;
        assertRejected(stream, null, ProtocolError.INVALID_FIELD,
                "unsupported version 5 of section 'ram' (livemig reads version 4)");
    }

    @Test
    void rejectsAnApplicationSectionOfAnotherVersion() throws IOException {
        byte[] stream = livemigStream(writer -> writer.writeFullSection("livemig-state", 0, 2, new byte[] {1}));
        assertRejected(stream, null, ProtocolError.INVALID_FIELD,
                "unsupported version 2 of section 'livemig-state' (livemig reads version 1)");
    }

    @Test
    void rejectsADeviceTailCutAnywhere() {
        QemuCapture capture = QemuCapture.load("none");
        byte[] stream = capture.bytes();
        int tail = capture.tailOffset();
        // Inside the first section's header (before the tail is known), inside timer, right after EOF, inside
        // the JSON, one byte short.
        for (int cut : new int[] {tail + 3, tail + 40, stream.length - 492, stream.length - 300, stream.length - 1}) {
            byte[] cutStream = Arrays.copyOf(stream, cut);
            String message = cut < tail + 19 ? "the migration stream ended before its EOF marker"
                    : "device state from section 'timer' is truncated: the stream ended after " + (cut - tail)
                            + " bytes, before its EOF and VMDESCRIPTION";
            assertRejected(cutStream, null, ProtocolError.TRUNCATED, message);
        }
    }

    @Test
    void rejectsADeviceTailItsDescriptionDoesNotWalk() {
        QemuCapture capture = QemuCapture.load("none");
        byte[] stream = capture.bytes();
        // globalstate's runstate buffer described as 99 bytes instead of 100: the footer is not where it ends.
        String text = new String(stream, StandardCharsets.ISO_8859_1);
        int size = text.lastIndexOf("\"size\": 100}");
        byte[] altered = (text.substring(0, size) + "\"size\":  99}" + text.substring(size + 12))
                .getBytes(StandardCharsets.ISO_8859_1);
        assertRejected(altered, null, ProtocolError.INVALID_FIELD, "device state: section 'globalstate' (id 4)"
                + " does not end with its footer where its description ends (offset 176)");
        assertThatThrownBy(() -> DeviceState.of("none", Arrays.copyOfRange(altered, capture.tailOffset(),
                altered.length)))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("device state: section 'globalstate' (id 4) does not end with its footer where its"
                        + " description ends (offset 176)");
    }

    @Test
    void rejectsAnotherMachineThanTheOneExpected() {
        assertRejected(QemuCapture.load("pc").bytes(), "none", ProtocolError.INVALID_FIELD,
                "section 'configuration': Machine type received is 'pc-i440fx-7.2' and local is 'none'");
        // Without configuration section, when one is expected.
        byte[] none = QemuCapture.load("none").bytes();
        byte[] noConfiguration = new byte[none.length - 9];
        System.arraycopy(none, 0, noConfiguration, 0, 8);
        System.arraycopy(none, 17, noConfiguration, 8, none.length - 17);
        assertRejected(noConfiguration, "none", ProtocolError.INVALID_FIELD,
                "section 'configuration' is missing (local machine 'none')");
        assertThat(QemuStreamCaptureTest.decode(noConfiguration, null)).last().isEqualTo(new StreamEvent.End());
    }

    @Test
    void rejectsPagesOutsideTheirBlockBeforeAnyPageEvent() {
        QemuCapture capture = QemuCapture.load("none");
        byte[] stream = capture.bytes();
        // The first page record, after START (17 + 17 + MEM_SIZE 8 + block 13 + EOS 8 + footer 5) and 02 00000002.
        int record = 73;
        assertThat(ByteBuffer.wrap(stream, record, 8).getLong()).isEqualTo(0x08);
        byte[] beyond = stream.clone();
        ByteBuffer.wrap(beyond, record, 8).putLong((2L << 20) | 0x08);
        assertNoPageThenRejected(beyond, "page at offset 0x200000 is outside RAM block 'ram0' (0x200000 bytes)");
        byte[] unknown = stream.clone();
        unknown[record + 12] = '1';
        assertNoPageThenRejected(unknown, "page record for unknown RAM block 'ram1'");
        byte[] orphan = stream.clone();
        orphan[record + 7] = 0x28;
        assertNoPageThenRejected(orphan, "page record at offset 0x0 continues a block, but none came before");
    }

    @Test
    void rejectsAVmDescriptionThatDoesNotDescribeTheApplicationSections() throws IOException {
        byte[] stream = livemigStream(writer -> writer.writeFullSection("livemig-state", 0, 1, new byte[] {1, 2}));
        String text = new String(stream, StandardCharsets.ISO_8859_1);
        byte[] altered = text.replace("\"size\": 2}", "\"size\": 3}").getBytes(StandardCharsets.ISO_8859_1);
        assertRejected(altered, null, ProtocolError.INVALID_FIELD,
                "the VMDESCRIPTION does not describe the 1 livemig sections received");
    }

    @Test
    void rejectsADeviceTailAfterApplicationSectionsAndBeforeTheFinalPart() throws IOException {
        byte[] tail = QemuCapture.load("none").tail();
        byte[] mixed = livemigStream(writer -> writer.writeFullSection("livemig-state", 0, 1, new byte[0]));
        // Replace EOF + VMDESCRIPTION of the application stream with QEMU's tail.
        int eof = new String(mixed, StandardCharsets.ISO_8859_1).indexOf("\u0000\u0006\u0000\u0000");
        byte[] stream = Arrays.copyOf(mixed, eof + tail.length);
        System.arraycopy(tail, 0, stream, eof, tail.length);
        assertRejected(stream, null, ProtocolError.INVALID_FIELD,
                "device section 'timer' after livemig's own sections: a stream carries one or the other");
    }

    private interface Body {
        void write(MigrationStreamWriter writer) throws IOException;
    }

    /** A livemig RDMA-mode stream with no rounds and the given sections. */
    private static byte[] livemigStream(Body sections) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        MigrationStreamWriter writer = new MigrationStreamWriter(new DataOutputStream(bytes));
        writer.writeHeader();
        writer.beginRamSetup(List.of(new BlockListEntry("ram0", 4096)));
        writer.endRamPart();
        writer.beginRamFinish();
        writer.endRamPart();
        sections.write(writer);
        writer.writeEof();
        return bytes.toByteArray();
    }

    private static void assertNoPageThenRejected(byte[] stream, String message) {
        List<StreamEvent> events = new ArrayList<>();
        try (MigrationStreamDecoder decoder = new MigrationStreamDecoder(LIMIT)) {
            decoder.feed(Unpooled.wrappedBuffer(stream));
            assertThatThrownBy(() -> {
                for (StreamEvent event; (event = decoder.next()) != null; ) {
                    events.add(event);
                }
            }).isInstanceOf(ProtocolException.class).hasMessage(message);
        }
        assertThat(events).noneMatch(e -> e instanceof StreamEvent.RamPage || e instanceof StreamEvent.RamZeroPage);
    }

    private static void assertRejected(byte[] stream, String machine, ProtocolError error, String message) {
        assertThatThrownBy(() -> QemuStreamCaptureTest.decode(stream, machine))
                .isInstanceOf(ProtocolException.class)
                .hasMessage(message)
                .satisfies(e -> assertThat(((ProtocolException) e).error()).isEqualTo(error));
    }
}
