package io.livemig.migration.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.ProtocolError;
import io.livemig.migration.protocol.ProtocolException;
import io.livemig.testing.LeakCheck;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/**
 * The push decoder: the same events and the same errors however the stream is split, TRUNCATED for every
 * early end, and every fed buffer released.
 */
class MigrationStreamDecoderTest {

    private static final long MAX_STATE = 1 << 20;
    private static final List<BlockListEntry> BLOCKS = List.of(new BlockListEntry("pc.ram", 1L << 30),
            new BlockListEntry("vga.vram", 16 << 20));
    private static final byte[] STATE = {1, 2, 3};
    private static final String TRUNCATED = "the migration stream ended before its EOF marker";
    private static final String TRUNCATED_DESCRIPTION = "the migration stream ended inside its VMDESCRIPTION";

    /** The events of {@link #stream()}, in order. */
    private static final List<StreamEvent> EVENTS = List.of(new StreamEvent.Configuration("livemig"),
            new StreamEvent.RamBlockList(BLOCKS),
            new StreamEvent.RamHook(RamPhase.SETUP), new StreamEvent.RamHook(RamPhase.ROUND),
            new StreamEvent.RamHook(RamPhase.ROUND), new StreamEvent.RamHook(RamPhase.FINISH),
            new StreamEvent.FullSection("livemig-state", 0, 1, STATE),
            new StreamEvent.FullSection("livemig-empty", 7, 1, new byte[0]), new StreamEvent.End());

    /** A stream with two rounds and two full sections, one of them empty. */
    private static byte[] stream() {
        return write(writer -> {
            writer.writeHeader();
            writer.beginRamSetup(BLOCKS);
            writer.endRamPart();
            for (int i = 0; i < 2; i++) {
                writer.beginRamRound();
                writer.endRamPart();
            }
            writer.beginRamFinish();
            writer.endRamPart();
            writer.writeFullSection("livemig-state", 0, 1, STATE);
            writer.writeFullSection("livemig-empty", 7, 1, new byte[0]);
            writer.writeEof();
        });
    }

    @Test
    void decodesTheWholeStreamFedAtOnce() {
        assertThat(decode(List.of(stream()), MigrationStreamDecoderTest::pooled)).containsExactlyElementsOf(EVENTS);
    }

    @Test
    void decodesTheStreamFedOneByteAtATime() {
        assertThat(decode(pieces(stream(), 1), MigrationStreamDecoderTest::pooled)).containsExactlyElementsOf(EVENTS);
    }

    @Test
    void decodesTheStreamSplitInTwoAtEveryOffset() {
        byte[] stream = stream();
        for (int cut = 0; cut <= stream.length; cut++) {
            List<byte[]> pieces = List.of(Arrays.copyOf(stream, cut), Arrays.copyOfRange(stream, cut, stream.length));
            assertThat(decode(pieces)).as("cut at %d", cut).containsExactlyElementsOf(EVENTS);
        }
    }

    @Test
    void decodesTheStreamInRandomPieces() {
        byte[] stream = stream();
        for (long seed = 0; seed < 200; seed++) {
            assertThat(decode(randomPieces(stream, new Random(seed), 24))).as("seed %d", seed)
                    .containsExactlyElementsOf(EVENTS);
        }
    }

    @Test
    void returnsEachEventAsSoonAsItsLastByteArrives() {
        byte[] stream = stream();
        List<Integer> completedAt = new ArrayList<>();
        try (MigrationStreamDecoder decoder = new MigrationStreamDecoder(MAX_STATE)) {
            for (int i = 0; i < stream.length; i++) {
                decoder.feed(Unpooled.wrappedBuffer(stream, i, 1));
                for (StreamEvent event; (event = decoder.next()) != null; ) {
                    completedAt.add(i + 1);
                }
            }
        }
        // The block list ends with vga.vram's used length, right before the 8-byte setup HOOK.
        int blockListEnd = indexOf(stream, HexFormat.of().parseHex("0000000001000000" + "0000000000000080")) + 8;
        assertThat(completedAt.getFirst()).isEqualTo(8 + 5 + "livemig".length());
        assertThat(completedAt.get(1)).isEqualTo(blockListEnd);
        assertThat(completedAt.get(2)).isEqualTo(blockListEnd + 8);
        assertThat(completedAt.getLast()).isEqualTo(stream.length);
        assertThat(completedAt).hasSize(EVENTS.size());
    }

    @Test
    void holdsNothingAfterAHookWhenTheHookEndsItsMessage() {
        // The source flushes after each HOOK (spec section 8.3): feed the stream in those messages.
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        MigrationStreamWriter writer = new MigrationStreamWriter(new DataOutputStream(bytes));
        List<Integer> flushes = new ArrayList<>();
        try {
            writer.writeHeader();
            writer.beginRamSetup(BLOCKS);
            flushes.add(bytes.size());
            writer.endRamPart();
            writer.beginRamRound();
            flushes.add(bytes.size());
            writer.endRamPart();
            writer.beginRamFinish();
            flushes.add(bytes.size());
            writer.endRamPart();
            writer.writeEof();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        byte[] stream = bytes.toByteArray();
        flushes.add(stream.length);
        try (MigrationStreamDecoder decoder = new MigrationStreamDecoder(MAX_STATE)) {
            int from = 0;
            List<StreamEvent> events = new ArrayList<>();
            for (int to : flushes) {
                decoder.feed(Unpooled.copiedBuffer(stream, from, to - from));
                from = to;
                for (StreamEvent event; (event = decoder.next()) != null; ) {
                    events.add(event);
                    if (event instanceof StreamEvent.RamHook) {
                        assertThat(decoder.bufferedBytes()).isZero();
                        assertThat(decoder.next()).isNull();
                    }
                }
            }
            assertThat(events).hasSize(6).endsWith(new StreamEvent.End());
            assertThat(decoder.finished()).isTrue();
        }
    }

    @Test
    void copiesALargeSectionAsItArrives() {
        byte[] state = new byte[300_000];
        new Random(1).nextBytes(state);
        byte[] stream = write(writer -> {
            writer.writeHeader();
            writer.beginRamSetup(BLOCKS);
            writer.endRamPart();
            writer.beginRamFinish();
            writer.endRamPart();
            writer.writeFullSection("livemig-big", 0, 1, state);
            writer.writeEof();
        });
        List<StreamEvent> events = decode(randomPieces(stream, new Random(2), 40_000));
        assertThat(events).contains(new StreamEvent.FullSection("livemig-big", 0, 1, state));
    }

    /** Where the EOF marker of {@link #stream()} ends: a stream may end there (no VMDESCRIPTION, as QEMU allows). */
    private static int eofEnd(byte[] stream) {
        return indexOf(stream, "{\"page_size\"".getBytes(java.nio.charset.StandardCharsets.US_ASCII)) - 5;
    }

    /** What ending the input after {@code length} bytes of {@link #stream()} is. */
    private static String truncation(byte[] stream, int length) {
        return length < eofEnd(stream) ? TRUNCATED : TRUNCATED_DESCRIPTION;
    }

    @Test
    void aStreamMayEndRightAfterItsEofMarker() throws IOException {
        byte[] stream = Arrays.copyOf(stream(), eofEnd(stream()));
        assertThat(decode(List.of(stream))).containsExactlyElementsOf(EVENTS);
        assertThat(decode(pieces(stream, 1))).containsExactlyElementsOf(EVENTS);
        readWithReader(stream);
    }

    @Test
    void truncatedAtEveryOffsetIsTruncatedAtTheEndOfInput() {
        byte[] stream = stream();
        for (int length = 0; length < stream.length; length++) {
            if (length == eofEnd(stream)) {
                continue;
            }
            String message = truncation(stream, length);
            byte[] prefix = Arrays.copyOf(stream, length);
            for (List<byte[]> pieces : List.of(List.of(prefix), pieces(prefix, 1))) {
                MigrationStreamDecoder decoder = new MigrationStreamDecoder(MAX_STATE);
                List<StreamEvent> events = new ArrayList<>();
                for (byte[] piece : pieces) {
                    decoder.feed(heap(piece));
                    for (StreamEvent event; (event = decoder.next()) != null; ) {
                        events.add(event);
                    }
                }
                assertThat(decoder.finished()).isFalse();
                assertThat(events).isEqualTo(EVENTS.subList(0, events.size()));
                assertRejected(decoder::endOfInput, ProtocolError.TRUNCATED, message);
                // Sticky: the same failure again, and nothing held.
                assertRejected(decoder::next, ProtocolError.TRUNCATED, message);
                assertThat(decoder.bufferedBytes()).isZero();
                decoder.close();
            }
        }
    }

    @Test
    void endOfInputDecodesWhatIsStillBuffered() {
        byte[] stream = stream();
        try (MigrationStreamDecoder decoder = new MigrationStreamDecoder(MAX_STATE)) {
            decoder.feed(pooled(stream));
            decoder.endOfInput();
            assertThat(drain(decoder)).containsExactlyElementsOf(EVENTS);
            assertThat(decoder.finished()).isTrue();
            decoder.endOfInput();
        }
        // Undrained and cut short: the complete events still come out, then the failure.
        try (MigrationStreamDecoder decoder = new MigrationStreamDecoder(MAX_STATE)) {
            decoder.feed(pooled(Arrays.copyOf(stream, stream.length - 1)));
            assertRejected(decoder::endOfInput, ProtocolError.TRUNCATED, TRUNCATED_DESCRIPTION);
            assertThat(decoder.next()).isEqualTo(EVENTS.getFirst());
            for (int i = 1; i < EVENTS.size() - 1; i++) {
                assertThat(decoder.next()).isEqualTo(EVENTS.get(i));
            }
            assertRejected(decoder::next, ProtocolError.TRUNCATED, TRUNCATED_DESCRIPTION);
        }
    }

    @Test
    void rejectsWithTheReadersErrorsHoweverTheStreamIsSplit() {
        byte[] whole = stream();
        for (Rejection rejection : rejections(whole)) {
            List<List<byte[]>> splits = new ArrayList<>(List.of(List.of(rejection.stream()),
                    pieces(rejection.stream(), 1)));
            for (long seed = 0; seed < 10; seed++) {
                splits.add(randomPieces(rejection.stream(), new Random(seed), 16));
            }
            for (List<byte[]> pieces : splits) {
                assertRejected(() -> decode(pieces), rejection.error(), rejection.message());
            }
            assertRejected(() -> readWithReader(rejection.stream()), rejection.error(), rejection.message());
        }
    }

    @Test
    void eventsBeforeAnErrorComeOutFirst() {
        byte[] stream = stream();
        // Break the footer of the first round (section 0 again, after the setup part's footer).
        int round = indexOf(stream, HexFormat.of().parseHex("02000000000000000000000080"));
        stream[round + 13 + 8] = 0x7f;
        try (MigrationStreamDecoder decoder = new MigrationStreamDecoder(MAX_STATE)) {
            decoder.feed(pooled(stream));
            assertThat(decoder.next()).isEqualTo(EVENTS.get(0));
            assertThat(decoder.next()).isEqualTo(EVENTS.get(1));
            assertThat(decoder.next()).isEqualTo(EVENTS.get(2));
            assertThat(decoder.next()).isEqualTo(EVENTS.get(3));
            String message = "missing footer of section 0: read 0x7f instead of 0x7e";
            assertRejected(decoder::next, ProtocolError.INVALID_FIELD, message);
            assertRejected(decoder::next, ProtocolError.INVALID_FIELD, message);
            assertRejected(decoder::endOfInput, ProtocolError.INVALID_FIELD, message);
            assertThat(decoder.bufferedBytes()).isZero();
        }
    }

    @Test
    void releasesEveryBufferItWasFed() {
        byte[] stream = stream();
        List<ByteBuf> fed = new ArrayList<>();
        // Consumed: each piece is released once read, not only at the end.
        try (MigrationStreamDecoder decoder = new MigrationStreamDecoder(MAX_STATE)) {
            for (byte[] piece : pieces(stream, 7)) {
                ByteBuf buf = pooled(piece);
                fed.add(buf);
                decoder.feed(buf);
                drain(decoder);
                // Only the pieces holding the unread part of a field remain: the longest field here, the
                // 14-byte name "livemig-state", spans at most three 7-byte pieces.
                assertThat(fed.subList(0, Math.max(0, fed.size() - 3)))
                        .allSatisfy(b -> assertThat(b.refCnt()).isZero());
            }
            assertThat(decoder.finished()).isTrue();
            assertThat(fed).allSatisfy(b -> assertThat(b.refCnt()).isZero());
            // Bytes after the end of stream (QEMU's VMDESCRIPTION) are released and ignored.
            ByteBuf after = pooled(new byte[] {6, 0, 0, 0, 2, '{', '}'});
            decoder.feed(after);
            assertThat(after.refCnt()).isZero();
            assertThat(decoder.next()).isNull();
        }
        // Abandoned mid-stream: close releases, twice is fine, later feeds are released.
        MigrationStreamDecoder decoder = new MigrationStreamDecoder(MAX_STATE);
        ByteBuf head = pooled(Arrays.copyOf(stream, 30));
        decoder.feed(head);
        ByteBuf empty = PooledByteBufAllocator.DEFAULT.buffer(4);
        decoder.feed(empty);
        assertThat(empty.refCnt()).isZero();
        assertThat(drain(decoder)).containsExactly(new StreamEvent.Configuration("livemig"));
        assertThat(head.refCnt()).isOne();
        decoder.close();
        decoder.close();
        assertThat(head.refCnt()).isZero();
        ByteBuf late = pooled(stream);
        decoder.feed(late);
        assertThat(late.refCnt()).isZero();
        assertThat(decoder.next()).isNull();
        decoder.endOfInput();
        // Failed: released at once.
        MigrationStreamDecoder failed = new MigrationStreamDecoder(MAX_STATE);
        ByteBuf bad = pooled(HexFormat.of().parseHex("5145564e000000030102"));
        failed.feed(bad);
        assertThatThrownBy(failed::next).isInstanceOf(ProtocolException.class);
        assertThat(bad.refCnt()).isZero();
        ByteBuf afterFailure = pooled(stream);
        failed.feed(afterFailure);
        assertThat(afterFailure.refCnt()).isZero();
        failed.close();
        LeakCheck.assertNoLeaks();
    }

    @Test
    void readerNeverReadsPastAHook() throws IOException {
        byte[] stream = stream();
        CountingInput counting = new CountingInput(stream);
        List<Integer> hookEnds = new ArrayList<>();
        for (int at = 0; (at = indexOf(stream, HexFormat.of().parseHex("0000000000000080"), at)) >= 0; at += 8) {
            hookEnds.add(at + 8);
        }
        List<Integer> readAtHook = new ArrayList<>();
        MigrationStreamReader reader = new MigrationStreamReader(new DataInputStream(counting), MAX_STATE);
        reader.readAll(new MigrationStreamReader.Listener() {
            @Override
            public void ramBlockList(List<BlockListEntry> blocks) {
                assertThat(blocks).isEqualTo(BLOCKS);
            }

            @Override
            public void ramHook(RamPhase phase) {
                readAtHook.add(counting.consumed);
            }

            @Override
            public void fullSection(String idstr, int instanceId, int versionId, byte[] state) {
            }
        });
        assertThat(readAtHook).isEqualTo(hookEnds);
        assertThat(counting.consumed).isEqualTo(stream.length);
    }

    @Test
    void readerTurnsAnEarlyEndIntoTruncated() {
        byte[] stream = stream();
        for (int length = 0; length < stream.length; length++) {
            if (length == eofEnd(stream)) {
                continue;
            }
            byte[] prefix = Arrays.copyOf(stream, length);
            assertRejected(() -> readWithReader(prefix), ProtocolError.TRUNCATED, truncation(stream, length));
        }
    }

    @Test
    void fullSectionsCompareTheirBytes() {
        StreamEvent.FullSection a = new StreamEvent.FullSection("s", 1, 2, new byte[] {1, 2});
        assertThat(a).isEqualTo(new StreamEvent.FullSection("s", 1, 2, new byte[] {1, 2}))
                .hasSameHashCodeAs(new StreamEvent.FullSection("s", 1, 2, new byte[] {1, 2}))
                .isNotEqualTo(new StreamEvent.FullSection("s", 1, 2, new byte[] {1, 3}))
                .hasToString("FullSection[idstr=s, instanceId=1, versionId=2, state=2 bytes]");
    }

    private static final String FLAGS_0X40 = "unexpected RAM flags 0x40 in the migration stream (livemig reads"
            + " MEM_SIZE, ZERO, PAGE, CONTINUE, EOS and HOOK)";

    /** A malformed stream and what both the reader and the decoder say about it. */
    private record Rejection(byte[] stream, ProtocolError error, String message) {
    }

    private static List<Rejection> rejections(byte[] whole) {
        HexFormat hex = HexFormat.of();
        String header = "5145564d00000003";
        String ramStart = "01" + "00000000" + "03" + "72616d" + "00000000" + "00000004";
        String memSize8k = "0000000000002004";
        String blockA = "0161" + "0000000000002000";
        String setupPart = ramStart + memSize8k + blockA + "0000000000000080" + "0000000000000010" + "7e00000000";
        List<Rejection> all = new ArrayList<>();
        all.add(new Rejection(hex.parseHex("5145564e00000003"), ProtocolError.INVALID_FIELD,
                "not a QEMU migration stream: magic 0x5145564e, expected 0x5145564d ('QEVM')"));
        all.add(new Rejection(hex.parseHex("5145564d00000002"), ProtocolError.INVALID_FIELD,
                "unsupported migration stream version 2 (expected 3)"));
        all.add(new Rejection(hex.parseHex(header + "09"), ProtocolError.INVALID_FIELD,
                "unknown section type 0x09 in the migration stream"));
        all.add(new Rejection(hex.parseHex(header + "00"), ProtocolError.INVALID_FIELD,
                "the migration stream ended before the final RAM part"));
        all.add(new Rejection(hex.parseHex(header + "04" + "00000001" + "00"), ProtocolError.INVALID_FIELD,
                "empty name in the migration stream"));
        all.add(new Rejection(hex.parseHex(header + "04" + "00000001" + "026100"), ProtocolError.INVALID_FIELD,
                "name in the migration stream has a NUL character"));
        all.add(new Rejection(hex.parseHex(header + "04" + "00000001" + "01ff"), ProtocolError.INVALID_FIELD,
                "name in the migration stream is not valid UTF-8"));
        all.add(new Rejection(hex.parseHex(header + "01" + "00000000" + "03" + "626c6b" + "00000000" + "00000004"),
                ProtocolError.INVALID_FIELD, "unexpected iterable section 'blk': livemig migrates only 'ram'"));
        all.add(new Rejection(hex.parseHex(header + "01" + "00000000" + "03" + "72616d" + "00000000" + "00000003"),
                ProtocolError.INVALID_FIELD, "unsupported version 3 of section 'ram' (livemig reads version 4)"));
        all.add(new Rejection(hex.parseHex(header + setupPart + ramStart), ProtocolError.INVALID_FIELD,
                "the RAM section started twice"));
        all.add(new Rejection(hex.parseHex(header + ramStart + "0000000000000080"), ProtocolError.INVALID_FIELD,
                "the RAM setup part must begin with MEM_SIZE"));
        all.add(new Rejection(hex.parseHex(header + ramStart + "0000000000000010"), ProtocolError.INVALID_FIELD,
                "the RAM setup part must begin with MEM_SIZE"));
        all.add(new Rejection(hex.parseHex(header + ramStart + memSize8k + blockA + memSize8k),
                ProtocolError.INVALID_FIELD, "MEM_SIZE outside the start of the RAM setup part"));
        all.add(new Rejection(hex.parseHex(header + setupPart + "02" + "00000000" + "0000000000002004"),
                ProtocolError.INVALID_FIELD, "MEM_SIZE outside the start of the RAM setup part"));
        all.add(new Rejection(hex.parseHex(header + ramStart + memSize8k + "0161" + "0000000000003000"),
                ProtocolError.INVALID_FIELD,
                "RAM block 'a' has used length 12288, which does not fit the announced total of 8192 bytes"));
        all.add(new Rejection(hex.parseHex(header + ramStart + memSize8k + "0161" + "0000000000000000"),
                ProtocolError.INVALID_FIELD,
                "RAM block 'a' has used length 0, which does not fit the announced total of 8192 bytes"));
        all.add(new Rejection(hex.parseHex(header + ramStart + memSize8k + blockA + "0000000000000040"),
                ProtocolError.INVALID_FIELD, FLAGS_0X40));
        all.add(new Rejection(hex.parseHex(header + ramStart + memSize8k + blockA + "0000000000002008" + "0161"),
                ProtocolError.INVALID_FIELD, "page at offset 0x2000 is outside RAM block 'a' (0x2000 bytes)"));
        all.add(new Rejection(hex.parseHex(header + ramStart + memSize8k + blockA + "0000000000000002" + "0162"),
                ProtocolError.INVALID_FIELD, "page record for unknown RAM block 'b'"));
        all.add(new Rejection(hex.parseHex(header + ramStart + memSize8k + blockA + "0000000000000022"),
                ProtocolError.INVALID_FIELD, "page record at offset 0x0 continues a block, but none came before"));
        all.add(new Rejection(hex.parseHex(header + "07" + "00000000"), ProtocolError.INVALID_FIELD,
                "section 'configuration' has a machine name of 0 bytes (1 to 256)"));
        all.add(new Rejection(hex.parseHex(header + "07" + "00000101"), ProtocolError.INVALID_FIELD,
                "section 'configuration' has a machine name of 257 bytes (1 to 256)"));
        all.add(new Rejection(hex.parseHex(header + "07" + "00000001" + "61" + "07"), ProtocolError.INVALID_FIELD,
                "section 'configuration' must come first"));
        all.add(new Rejection(hex.parseHex(header + "07" + "00000001" + "61" + "05" + "0475756964"),
                ProtocolError.INVALID_FIELD, "unsupported subsection 'uuid' of section 'configuration'"));
        all.add(new Rejection(hex.parseHex(header + "05"), ProtocolError.INVALID_FIELD,
                "unexpected subsection (section type 0x05) in the migration stream"));
        all.add(new Rejection(hex.parseHex(header + "04" + "00000001" + "0173" + "00000000" + "00000001"),
                ProtocolError.INVALID_FIELD, "device section 's' arrived before the final RAM part"));
        all.add(new Rejection(hex.parseHex(header + "02" + "00000000"), ProtocolError.INVALID_FIELD,
                "unknown section id 0"));
        all.add(new Rejection(hex.parseHex(header + setupPart + "02" + "ffffffff"), ProtocolError.INVALID_FIELD,
                "unknown section id 4294967295"));
        all.add(new Rejection(hex.parseHex(header + setupPart + "03" + "00000000" + "0000000000000010" + "7e00000000"
                + "02" + "00000000"), ProtocolError.INVALID_FIELD, "a RAM part arrived after the final one"));
        all.add(new Rejection(hex.parseHex(header + setupPart.replace("7e00000000", "7f00000000")),
                ProtocolError.INVALID_FIELD, "missing footer of section 0: read 0x7f instead of 0x7e"));
        all.add(new Rejection(hex.parseHex(header + setupPart.replace("7e00000000", "7e00000005")),
                ProtocolError.INVALID_FIELD, "footer of section 5 closes section 0"));
        String livemigS = "04" + "00000001" + "09" + hex.formatHex("livemig-s".getBytes()) + "00000000";
        all.add(new Rejection(hex.parseHex(header + livemigS + "00000001" + "00100001"), ProtocolError.INVALID_FIELD,
                "section 'livemig-s' holds 1048577 bytes, more than the limit of 1048576"));
        all.add(new Rejection(hex.parseHex(header + livemigS + "00000001" + "ffffffff"), ProtocolError.INVALID_FIELD,
                "section 'livemig-s' holds 4294967295 bytes, more than the limit of 1048576"));
        all.add(new Rejection(hex.parseHex(header + livemigS + "00000002"), ProtocolError.INVALID_FIELD,
                "unsupported version 2 of section 'livemig-s' (livemig reads version 1)"));
        // The existing reader tests' cases, on the whole stream.
        byte[] flags = whole.clone();
        flags[indexOf(flags, hex.parseHex("02000000000000000000000080")) + 12] = 0x40;
        all.add(new Rejection(flags, ProtocolError.INVALID_FIELD, FLAGS_0X40));
        byte[] notDescription = whole.clone();
        notDescription[eofEnd(whole)] = 0x07;
        all.add(new Rejection(notDescription, ProtocolError.INVALID_FIELD,
                "expected the VMDESCRIPTION after EOF, read section type 0x07"));
        byte[] otherDescription = whole.clone();
        otherDescription[whole.length - 3] = '9';
        all.add(new Rejection(otherDescription, ProtocolError.INVALID_FIELD,
                "the VMDESCRIPTION does not describe the 2 livemig sections received"));
        return all;
    }

    /**
     * Feeds the pieces, drains after each, ends the input; checks everything was released. The buffers are
     * unpooled heap buffers that the leak detector does not track, which keeps the many-split tests fast;
     * {@link #releasesEveryBufferItWasFed()} and the whole-stream test use tracked pooled buffers.
     */
    private static List<StreamEvent> decode(List<byte[]> pieces) {
        return decode(pieces, MigrationStreamDecoderTest::heap);
    }

    private static List<StreamEvent> decode(List<byte[]> pieces, Function<byte[], ByteBuf> buffers) {
        List<StreamEvent> events = new ArrayList<>();
        List<ByteBuf> fed = new ArrayList<>();
        try (MigrationStreamDecoder decoder = new MigrationStreamDecoder(MAX_STATE)) {
            for (byte[] piece : pieces) {
                ByteBuf buf = buffers.apply(piece);
                fed.add(buf);
                decoder.feed(buf);
                events.addAll(drain(decoder));
            }
            decoder.endOfInput();
            // A stream that ends right after EOF ends with endOfInput().
            events.addAll(drain(decoder));
            assertThat(decoder.finished()).isTrue();
            assertThat(decoder.bufferedBytes()).isZero();
        } finally {
            assertThat(fed).allSatisfy(buf -> assertThat(buf.refCnt()).isZero());
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

    private static void readWithReader(byte[] stream) throws IOException {
        new MigrationStreamReader(new DataInputStream(new ByteArrayInputStream(stream)), MAX_STATE)
                .readAll(new MigrationStreamReader.Listener() {
                    @Override
                    public void ramBlockList(List<BlockListEntry> blocks) {
                    }

                    @Override
                    public void ramHook(RamPhase phase) {
                    }

                    @Override
                    public void fullSection(String idstr, int instanceId, int versionId, byte[] state) {
                    }
                });
    }

    private static ByteBuf pooled(byte[] bytes) {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.buffer(Math.max(1, bytes.length));
        return buf.writeBytes(bytes);
    }

    /** An untracked heap buffer, with a reference count of its own even when empty. */
    private static ByteBuf heap(byte[] bytes) {
        return Unpooled.wrappedBuffer(bytes.length == 0 ? new byte[1] : bytes).writerIndex(bytes.length);
    }

    private static List<byte[]> pieces(byte[] stream, int size) {
        List<byte[]> pieces = new ArrayList<>();
        for (int i = 0; i < stream.length; i += size) {
            pieces.add(Arrays.copyOfRange(stream, i, Math.min(stream.length, i + size)));
        }
        return pieces;
    }

    /** Pieces of 0 to {@code max} bytes: empty buffers are fed too. */
    private static List<byte[]> randomPieces(byte[] stream, Random random, int max) {
        List<byte[]> pieces = new ArrayList<>();
        for (int i = 0; i < stream.length; ) {
            int n = Math.min(stream.length - i, random.nextInt(max + 1));
            pieces.add(Arrays.copyOfRange(stream, i, i + n));
            i += n;
        }
        return pieces;
    }

    private static void assertRejected(ThrowingCallable call, ProtocolError error, String message) {
        assertThatThrownBy(call)
                .isInstanceOf(ProtocolException.class)
                .hasMessage(message)
                .satisfies(e -> assertThat(((ProtocolException) e).error()).isEqualTo(error));
    }

    private interface Writing {
        void write(MigrationStreamWriter writer) throws IOException;
    }

    private static byte[] write(Writing writing) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            writing.write(new MigrationStreamWriter(new DataOutputStream(bytes)));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return bytes.toByteArray();
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        return indexOf(haystack, needle, 0);
    }

    private static int indexOf(byte[] haystack, byte[] needle, int from) {
        outer:
        for (int i = from; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** An input that hands out at most what was asked and counts what it handed out. */
    private static final class CountingInput extends InputStream {
        private final byte[] bytes;
        private int consumed;

        CountingInput(byte[] bytes) {
            this.bytes = bytes;
        }

        @Override
        public int read() {
            return consumed < bytes.length ? bytes[consumed++] & 0xff : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (consumed == bytes.length) {
                return -1;
            }
            int n = Math.min(len, bytes.length - consumed);
            System.arraycopy(bytes, consumed, b, off, n);
            consumed += n;
            return n;
        }
    }
}
