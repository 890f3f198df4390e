package io.livemig.migration.stream;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.ProtocolException;
import io.livemig.testing.FuzzInputs;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Coverage-guided fuzzing of the savevm stream inside QEMU FILE: {@link MigrationStreamDecoder} fed the input whole
 * and in pieces, and {@link MigrationStreamReader} pulling it from a {@link DataInputStream}, must all yield the same
 * events and end the same way (the end of stream, or the same {@link ProtocolException}, TRUNCATED for an early end);
 * no other exception escapes, every fed buffer is released, and decoding allocates no more than the input's size
 * (times a small factor) plus the documented limit on a full section's state.
 *
 * <p>The seeds are streams {@link MigrationStreamWriter} writes ({@link #seeds}). {@code scripts/fuzz.sh stream} and
 * {@code scripts/fuzz.sh stream-reader} fuzz (docs/fuzzing.md).
 */
class MigrationStreamFuzzTest {

    /** The largest full section accepted: the documented limit on what a length field may make the decoder hold. */
    private static final long MAX_STATE = 64 * 1024;

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    @FuzzTest
    void decoder(byte[] input) {
        // Measured on a second decoding: the first of a run also loads and initializes classes on this thread.
        List<Object> whole = decode(input, Math.max(input.length, 1));
        long before = THREADS.getCurrentThreadAllocatedBytes();
        assertThat(decode(input, Math.max(input.length, 1))).isEqualTo(whole);
        long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
        // Exceptions, names and event objects cost a few KiB; a length field trusted beyond the limit costs more. The
        // slack is 1 MiB because the replay after a fuzzing run measured about 550 KB on its first inputs, even an
        // empty one (lazy initialization outside the decoder; fuzzing itself stays far below).
        assertThat(allocated).as("bytes allocated decoding %d input bytes", input.length)
                .isLessThanOrEqualTo(MAX_STATE + 64L * input.length + 1024 * 1024);
        // Split into pieces of a size the input picks: the same outcome however the bytes arrive.
        int pieceSize = 1 + input.length % 13;
        assertThat(decode(input, pieceSize)).as("pieces of %d bytes", pieceSize).isEqualTo(whole);
    }

    @FuzzTest
    void reader(byte[] input) {
        assertThat(read(input)).isEqualTo(decode(input, Math.max(input.length, 1)));
    }

    @Test
    void seedsAreStreamsTheWriterProduces() {
        Map<String, byte[]> seeds = seeds();
        FuzzInputs.check(getClass(), "decoder", seeds);
        FuzzInputs.check(getClass(), "reader", seeds);
    }

    static Map<String, byte[]> seeds() {
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        seeds.put("minimal", write(w -> {
            w.writeHeader();
            w.beginRamSetup(List.of(new BlockListEntry("pc.ram", 1L << 30)));
            w.endRamPart();
            w.beginRamFinish();
            w.endRamPart();
            w.writeEof();
        }));
        seeds.put("rounds-and-sections", write(w -> {
            w.writeHeader();
            w.beginRamSetup(List.of(new BlockListEntry("pc.ram", 1L << 30), new BlockListEntry("vga.vram", 16 << 20)));
            w.endRamPart();
            for (int i = 0; i < 2; i++) {
                w.beginRamRound();
                w.endRamPart();
            }
            w.beginRamFinish();
            w.endRamPart();
            w.writeFullSection("livemig-state", 0, 1, new byte[] {1, 2, 3});
            w.writeFullSection("livemig-empty", 7, 1, new byte[0]);
            w.writeEof();
        }));
        seeds.put("no-blocks-then-section-before-finish", write(w -> {
            w.writeHeader();
            w.beginRamSetup(List.of());
            w.endRamPart();
            w.writeFullSection("livemig-\u00e9t\u00e9", 1, 1, new byte[100]);
            w.beginRamFinish();
            w.endRamPart();
            w.writeEof();
        }));
        // QEMU's exec-mode layout: pages in the stream, then -M none's recorded device tail (QemuStreamCaptureTest).
        seeds.put("qemu-none-pages-and-device-tail", write(MigrationStreamWriter.RamMode.STREAM, w -> {
            w.writeHeader("none");
            w.ramSectionId(2);
            w.beginRamSetup(List.of(new BlockListEntry("ram0", 16384)));
            w.endRamPart();
            w.beginRamRound();
            byte[] page = new byte[4096];
            java.util.Arrays.fill(page, 0, 64, (byte) 0x5a);
            w.writePage("ram0", 0, page);
            w.writeZeroPage("ram0", 4096);
            w.endRamPart();
            w.beginRamFinish();
            w.writeZeroPage("ram0", 8192);
            w.endRamPart();
            w.writeDeviceState(DeviceState.of("none", QemuCapture.load("none").tail()));
        }));
        return seeds;
    }

    private interface Writing {
        void to(MigrationStreamWriter writer) throws IOException;
    }

    private static byte[] write(Writing writing) {
        return write(MigrationStreamWriter.RamMode.RDMA, writing);
    }

    private static byte[] write(MigrationStreamWriter.RamMode mode, Writing writing) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            writing.to(new MigrationStreamWriter(new DataOutputStream(bytes), mode));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** The events, then the end of stream or the refusal; every fed buffer checked released. */
    private static List<Object> decode(byte[] input, int pieceSize) {
        List<Object> outcome = new ArrayList<>();
        List<ByteBuf> fed = new ArrayList<>();
        MigrationStreamDecoder decoder = new MigrationStreamDecoder(MAX_STATE);
        try {
            for (int at = 0; at < input.length; at += pieceSize) {
                ByteBuf piece = Unpooled.copiedBuffer(input, at, Math.min(pieceSize, input.length - at));
                fed.add(piece);
                // After the end or a refusal the decoder releases what it is fed at once.
                decoder.feed(piece);
                drain(decoder, outcome);
            }
            decoder.endOfInput();
            drain(decoder, outcome);
        } catch (ProtocolException refused) {
            outcome.add(refusal(refused));
        } finally {
            decoder.close();
        }
        assertThat(decoder.bufferedBytes()).as("bytes held once closed").isZero();
        for (ByteBuf piece : fed) {
            assertThat(piece.refCnt()).as("references to a fed buffer").isZero();
        }
        return outcome;
    }

    private static void drain(MigrationStreamDecoder decoder, List<Object> outcome) {
        for (StreamEvent event; (event = decoder.next()) != null; ) {
            outcome.add(event);
        }
    }

    private static List<Object> read(byte[] input) {
        List<Object> outcome = new ArrayList<>();
        MigrationStreamReader reader = new MigrationStreamReader(
                new DataInputStream(new ByteArrayInputStream(input)), MAX_STATE);
        try {
            reader.readAll(new MigrationStreamReader.Listener() {
                @Override
                public void configuration(String machine) {
                    outcome.add(new StreamEvent.Configuration(machine));
                }

                @Override
                public void ramPage(StreamEvent.RamPage page) {
                    outcome.add(page);
                }

                @Override
                public void ramZeroPage(StreamEvent.RamZeroPage page) {
                    outcome.add(page);
                }

                @Override
                public void deviceState(DeviceState state) {
                    outcome.add(new StreamEvent.DeviceSections(state));
                }

                @Override
                public void ramBlockList(List<BlockListEntry> blocks) {
                    outcome.add(new StreamEvent.RamBlockList(blocks));
                }

                @Override
                public void ramHook(RamPhase phase) {
                    outcome.add(new StreamEvent.RamHook(phase));
                }

                @Override
                public void fullSection(String idstr, int instanceId, int versionId, byte[] state) {
                    outcome.add(new StreamEvent.FullSection(idstr, instanceId, versionId, state));
                }
            });
            outcome.add(new StreamEvent.End());
        } catch (ProtocolException refused) {
            outcome.add(refusal(refused));
        } catch (IOException e) {
            throw new AssertionError("a byte array input cannot fail", e);
        }
        return outcome;
    }

    private static String refusal(ProtocolException e) {
        return "refused " + e.error() + ": " + e.getMessage();
    }
}
