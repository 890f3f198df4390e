package io.livemig.migration.stream;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.migration.protocol.BlockListEntry;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The stream QEMU 7.2 writes, from `migrate exec:cat > FILE` captures of a `-M none` VM (one 2 MiB
 * memory-backend-file block of random pages and zero ranges) and a `-M pc -m 16M` VM
 * (scripts/capture-qemu-stream.sh): the decoder reads them to the end, the writer writes them byte for byte.
 */
class QemuStreamCaptureTest {

    private static final long LIMIT = 1 << 20;

    @Test
    void decodesTheNoneCaptureToItsVmDescription() {
        QemuCapture capture = QemuCapture.load("none");
        List<StreamEvent> events = decode(capture.bytes(), null);

        assertThat(events.getFirst()).isEqualTo(new StreamEvent.Configuration("none"));
        assertThat(events.get(1)).isEqualTo(new StreamEvent.RamBlockList(List.of(new BlockListEntry("ram0", 2 << 20))));
        // The pages rebuild the RAM file the block was backed by: 25 random pages, 487 zero pages.
        byte[] ram = new byte[2 << 20];
        int pages = 0;
        int zeroPages = 0;
        for (StreamEvent event : events) {
            if (event instanceof StreamEvent.RamPage page) {
                assertThat(page.block()).isEqualTo("ram0");
                System.arraycopy(page.data(), 0, ram, (int) page.offset(), page.data().length);
                pages++;
            } else if (event instanceof StreamEvent.RamZeroPage zero) {
                assertThat(zero.fill()).isZero();
                zeroPages++;
            }
        }
        assertThat(pages).isEqualTo(25);
        assertThat(zeroPages).isEqualTo(487);
        assertThat(ram).isEqualTo(QemuCapture.resource("none.ram"));

        DeviceState state = ((StreamEvent.DeviceSections) events.get(events.size() - 2)).state();
        assertThat(state.machine()).isEqualTo("none");
        assertThat(state.tail()).isEqualTo(capture.tail());
        assertThat(state.size()).isEqualTo(674);
        assertThat(state.sections()).containsExactly(new DeviceState.Section(0, "timer", 0, 2),
                new DeviceState.Section(4, "globalstate", 0, 1));
        assertThat(state.freeSectionId()).isEqualTo(1);
        String tail = new String(state.tail(), StandardCharsets.ISO_8859_1);
        assertThat(tail).endsWith("{\"name\": \"runstate\", \"type\": \"buffer\", \"size\": 100}]}]}");
        assertThat(events.getLast()).isEqualTo(new StreamEvent.End());
    }

    @Test
    void decodesThePcCaptureWithItsSixBlocksAndThirtyDeviceSections() {
        QemuCapture capture = QemuCapture.load("pc");
        List<StreamEvent> events = decode(capture.bytes(), "pc-i440fx-7.2");

        assertThat(events.getFirst()).isEqualTo(new StreamEvent.Configuration("pc-i440fx-7.2"));
        assertThat(((StreamEvent.RamBlockList) events.get(1)).blocks()).containsExactly(
                new BlockListEntry("pc.ram", 16 << 20), new BlockListEntry("/rom@etc/acpi/tables", 128 << 10),
                new BlockListEntry("pc.bios", 256 << 10), new BlockListEntry("pc.rom", 128 << 10),
                new BlockListEntry("/rom@etc/table-loader", 4 << 10), new BlockListEntry("/rom@etc/acpi/rsdp", 4 << 10));
        // Every page of every block, once, in the order the oracle reads them.
        List<QemuCapture.Page> expected = capture.parts().stream().flatMap(part -> part.pages().stream()).toList();
        List<QemuCapture.Page> decoded = new ArrayList<>();
        for (StreamEvent event : events) {
            if (event instanceof StreamEvent.RamPage page) {
                decoded.add(new QemuCapture.Page(page.block(), page.offset(), page.data()));
            } else if (event instanceof StreamEvent.RamZeroPage zero) {
                decoded.add(new QemuCapture.Page(zero.block(), zero.offset(), null));
            }
        }
        assertThat(decoded).hasSize(expected.size()).hasSize((16 << 20) / 4096 + (128 + 256 + 128 + 4 + 4) / 4);
        for (int i = 0; i < expected.size(); i++) {
            assertThat(decoded.get(i).block()).isEqualTo(expected.get(i).block());
            assertThat(decoded.get(i).offset()).isEqualTo(expected.get(i).offset());
            assertThat(decoded.get(i).data()).isEqualTo(expected.get(i).data());
        }

        DeviceState state = ((StreamEvent.DeviceSections) events.get(events.size() - 2)).state();
        assertThat(state.machine()).isEqualTo("pc-i440fx-7.2");
        assertThat(state.tail()).isEqualTo(capture.tail());
        assertThat(state.size()).isEqualTo(111_512);
        assertThat(state.sections()).hasSize(30);
        assertThat(state.sections().getFirst()).isEqualTo(new DeviceState.Section(0, "timer", 0, 2));
        assertThat(events.getLast()).isEqualTo(new StreamEvent.End());
    }

    @Test
    void decodesTheCapturesInAnySplitAndThroughThePullingReader() throws IOException {
        for (String name : List.of("none", "pc")) {
            byte[] bytes = QemuCapture.load(name).bytes();
            List<StreamEvent> whole = decode(bytes, null);
            // QEMU's RDMA path sends at most 32 KiB per QEMU FILE message; 4099 splits every field somewhere.
            for (int piece : List.of(32768, 4099, 7)) {
                assertThat(decodeInPieces(bytes, piece)).as("%s in pieces of %d", name, piece)
                        .containsExactlyElementsOf(whole);
            }
            List<StreamEvent> read = new ArrayList<>();
            new MigrationStreamReader(new DataInputStream(new ByteArrayInputStream(bytes)), LIMIT)
                    .readAll(new RecordingListener(read));
            assertThat(read).as(name).containsExactlyElementsOf(whole.subList(0, whole.size() - 1));
        }
    }

    @Test
    void writerReproducesEachCaptureByteForByte() throws IOException {
        for (String name : List.of("none", "pc")) {
            QemuCapture capture = QemuCapture.load(name);
            assertThat(write(capture, true)).as(name).isEqualTo(capture.bytes());
        }
    }

    @Test
    void writerReproducesTheNonRamBytesOfEachCapture() throws IOException {
        for (String name : List.of("none", "pc")) {
            QemuCapture capture = QemuCapture.load(name);
            byte[] written = write(capture, false);
            assertThat(written).as(name).isEqualTo(capture.withoutPages());
            // What remains of the RAM section without pages: START with its block list, one EOS per part.
            int ramBytes = written.length - capture.tail().length - 8 - 5 - capture.machine().length();
            int blockList = capture.blocks().stream().mapToInt(b -> 1 + b.name().length() + 8).sum();
            assertThat(ramBytes).isEqualTo(14 + 3 + 8 + blockList + capture.parts().size() * (8 + 5)
                    + (capture.parts().size() - 1) * 5);
        }
    }

    @Test
    void decodesAnRdmaModeStreamAroundACapturedDeviceTail() throws IOException {
        QemuCapture capture = QemuCapture.load("none");
        DeviceState state = DeviceState.of("none", capture.tail());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        MigrationStreamWriter writer = new MigrationStreamWriter(new DataOutputStream(bytes));
        writer.writeHeader("none");
        writer.ramSectionId(state.freeSectionId());
        writer.beginRamSetup(List.of(new BlockListEntry("ram0", 2 << 20)));
        writer.endRamPart();
        writer.beginRamRound();
        writer.endRamPart();
        writer.beginRamFinish();
        writer.endRamPart();
        writer.writeDeviceState(state);

        assertThat(decode(bytes.toByteArray(), "none")).containsExactly(new StreamEvent.Configuration("none"),
                new StreamEvent.RamBlockList(List.of(new BlockListEntry("ram0", 2 << 20))),
                new StreamEvent.RamHook(RamPhase.SETUP), new StreamEvent.RamHook(RamPhase.ROUND),
                new StreamEvent.RamHook(RamPhase.FINISH), new StreamEvent.DeviceSections(state), new StreamEvent.End());
        // The RAM section took id 1, which neither timer (0) nor globalstate (4) uses.
        assertThat(Arrays.copyOfRange(bytes.toByteArray(), 17, 22)).containsExactly(1, 0, 0, 0, 1);
    }

    /** The capture written again from the oracle's parts: with its page records, or without any. */
    static byte[] write(QemuCapture capture, boolean pages) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        MigrationStreamWriter writer = new MigrationStreamWriter(new DataOutputStream(bytes),
                MigrationStreamWriter.RamMode.STREAM);
        writer.writeHeader(capture.machine());
        writer.ramSectionId(capture.ramSectionId());
        Map<String, Long> lengths = new HashMap<>();
        capture.blocks().forEach(b -> lengths.put(b.name(), b.length()));
        for (QemuCapture.Part part : capture.parts()) {
            switch (part.type()) {
                case 1 -> writer.beginRamSetup(capture.blocks().stream()
                        .map(b -> new BlockListEntry(b.name(), b.length())).toList());
                case 2 -> writer.beginRamRound();
                default -> writer.beginRamFinish();
            }
            for (QemuCapture.Page page : pages ? part.pages() : List.<QemuCapture.Page>of()) {
                if (page.data() == null) {
                    writer.writeZeroPage(page.block(), page.offset());
                } else {
                    writer.writePage(page.block(), page.offset(), page.data());
                }
            }
            writer.endRamPart();
        }
        writer.writeDeviceState(DeviceState.of(capture.machine(), capture.tail()));
        return bytes.toByteArray();
    }

    static List<StreamEvent> decode(byte[] stream, String machine) {
        try (MigrationStreamDecoder decoder = new MigrationStreamDecoder(LIMIT, machine)) {
            decoder.feed(Unpooled.wrappedBuffer(stream));
            decoder.endOfInput();
            return drain(decoder);
        }
    }

    private static List<StreamEvent> decodeInPieces(byte[] stream, int piece) {
        List<StreamEvent> events = new ArrayList<>();
        try (MigrationStreamDecoder decoder = new MigrationStreamDecoder(LIMIT)) {
            for (int at = 0; at < stream.length; at += piece) {
                decoder.feed(Unpooled.wrappedBuffer(stream, at, Math.min(piece, stream.length - at)));
                events.addAll(drain(decoder));
            }
            assertThat(decoder.finished()).isTrue();
        }
        return events;
    }

    private static List<StreamEvent> drain(MigrationStreamDecoder decoder) {
        List<StreamEvent> events = new ArrayList<>();
        for (StreamEvent event; (event = decoder.next()) != null; ) {
            events.add(event);
        }
        return events;
    }

    /** Turns the reader's calls back into events. */
    private record RecordingListener(List<StreamEvent> events) implements MigrationStreamReader.Listener {
        @Override
        public void configuration(String machine) {
            events.add(new StreamEvent.Configuration(machine));
        }

        @Override
        public void ramBlockList(List<BlockListEntry> blocks) {
            events.add(new StreamEvent.RamBlockList(blocks));
        }

        @Override
        public void ramHook(RamPhase phase) {
            events.add(new StreamEvent.RamHook(phase));
        }

        @Override
        public void ramPage(StreamEvent.RamPage page) {
            events.add(page);
        }

        @Override
        public void ramZeroPage(StreamEvent.RamZeroPage page) {
            events.add(page);
        }

        @Override
        public void fullSection(String idstr, int instanceId, int versionId, byte[] state) {
            events.add(new StreamEvent.FullSection(idstr, instanceId, versionId, state));
        }

        @Override
        public void deviceState(DeviceState state) {
            events.add(new StreamEvent.DeviceSections(state));
        }
    }
}
