package io.livemig.migration.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.ProtocolError;
import io.livemig.migration.protocol.ProtocolException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

class MigrationStreamTest {

    private static final List<BlockListEntry> BLOCKS = List.of(new BlockListEntry("pc.ram", 1L << 30),
            new BlockListEntry("vga.vram", 16 << 20));

    /** The stream of a migration with one iteration, as bytes. */
    private static byte[] wholeStream() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        MigrationStreamWriter writer = new MigrationStreamWriter(new DataOutputStream(bytes));
        writer.writeHeader();
        writer.beginRamSetup(BLOCKS);
        writer.endRamPart();
        writer.beginRamRound();
        writer.endRamPart();
        writer.beginRamFinish();
        writer.endRamPart();
        writer.writeFullSection("livemig-state", 0, 1, new byte[] {1, 2, 3});
        writer.writeEof();
        return bytes.toByteArray();
    }

    @Test
    void setupPartIsLaidOutAsQemuWritesItInRdmaMode() throws IOException {
        String hex = HexFormat.of().formatHex(wholeStream());
        String setup = "5145564d" + "00000003"                  // QEVM, version 3
                + "07" + "00000007" + "6c6976656d6967"            // configuration: machine "livemig"
                + "01" + "00000000" + "03" + "72616d" + "00000000" + "00000004" // START, id 0, "ram", inst 0, v4
                + "0000000041000004"                              // MEM_SIZE: 1 GiB + 16 MiB
                + "06" + "70632e72616d" + "0000000040000000"      // pc.ram, 1 GiB
                + "08" + "7667612e7672616d" + "0000000001000000"  // vga.vram, 16 MiB
                + "0000000000000080"                              // HOOK
                + "0000000000000010" + "7e00000000";              // EOS, footer
        assertThat(hex).startsWith(setup);
        String rest = hex.substring(setup.length());
        assertThat(rest).isEqualTo("02" + "00000000" + "0000000000000080" + "0000000000000010" + "7e00000000"
                + "03" + "00000000" + "0000000000000080" + "0000000000000010" + "7e00000000"
                + "04" + "00000001" + "0d" + HexFormat.of().formatHex("livemig-state".getBytes()) + "00000000"
                + "00000001" + "00000003" + "010203" + "7e00000001"  // v1, be32 size, data, footer
                + "00" + "06" + String.format("%08x", DESCRIPTION.length()) // EOF, VMDESCRIPTION
                + HexFormat.of().formatHex(DESCRIPTION.getBytes()));
    }

    /** What QEMU's JSON writer would write for the one livemig section (its ", " and ": " separators). */
    private static final String DESCRIPTION = "{\"page_size\": 4096, \"devices\": [{\"name\": \"livemig-state\", "
            + "\"instance_id\": 0, \"vmsd_name\": \"livemig-state\", \"version\": 1, \"fields\": ["
            + "{\"name\": \"size\", \"type\": \"uint32\", \"size\": 4}, "
            + "{\"name\": \"data\", \"type\": \"buffer\", \"size\": 3}]}]}";

    @Test
    void pagesAreLaidOutAsQemuWritesThemInExecMode() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        MigrationStreamWriter writer = new MigrationStreamWriter(new DataOutputStream(bytes),
                MigrationStreamWriter.RamMode.STREAM);
        writer.writeHeader("none");
        writer.ramSectionId(2);
        writer.beginRamSetup(List.of(new BlockListEntry("a", 8192), new BlockListEntry("b", 4096)));
        writer.endRamPart();
        writer.beginRamFinish();
        byte[] page = new byte[4096];
        page[0] = 1;
        writer.writePage("a", 4096, page);
        writer.writeZeroPage("a", 0);
        writer.writeZeroPage("b", 0);
        writer.endRamPart();
        assertThatThrownBy(() -> writer.writePage("b", 4096, page)).isInstanceOf(IllegalStateException.class)
                .hasMessage("page records go in an open RAM part of a STREAM-mode writer");
        String hex = HexFormat.of().formatHex(bytes.toByteArray());
        assertThat(hex).isEqualTo("5145564d00000003" + "07000000046e6f6e65"
                + "0100000002" + "0372616d" + "00000000" + "00000004" + "0000000000003004"
                + "0161" + "0000000000002000" + "0162" + "0000000000001000" + "0000000000000010" + "7e00000002"
                + "0300000002"
                + "0000000000001008" + "0161" + "01" + "00".repeat(4095)   // PAGE a @0x1000, named
                + "0000000000000022" + "00"                               // ZERO a @0, CONTINUE
                + "0000000000000002" + "0162" + "00"                      // ZERO b @0, named
                + "0000000000000010" + "7e00000002");
    }

    @Test
    void writerRefusesPagesOutsideTheirBlockAndForeignSectionNames() throws IOException {
        MigrationStreamWriter writer = new MigrationStreamWriter(new DataOutputStream(new ByteArrayOutputStream()),
                MigrationStreamWriter.RamMode.STREAM);
        writer.writeHeader();
        writer.beginRamSetup(List.of(new BlockListEntry("a", 8192)));
        assertThatThrownBy(() -> writer.writeZeroPage("a", 8192)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("no page at offset 8192 of block 'a'");
        assertThatThrownBy(() -> writer.writeZeroPage("b", 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("no page at offset 0 of block 'b'");
        writer.endRamPart();
        assertThatThrownBy(() -> writer.writeFullSection("timer", 0, 2, new byte[0]))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("an application's section name begins with 'livemig-': 'timer'");
    }

    @Test
    void readerDeliversBlockListHooksAndStateInOrder() throws IOException {
        List<String> events = new ArrayList<>();
        read(wholeStream(), events);
        assertThat(events).containsExactly("blocks [BlockListEntry[idstr=pc.ram, usedLength=1073741824], "
                        + "BlockListEntry[idstr=vga.vram, usedLength=16777216]]",
                "hook SETUP", "hook ROUND", "hook FINISH", "state livemig-state/0/1 [1, 2, 3]");
    }

    @Test
    void rejectsAStreamThatIsNotQemus() {
        byte[] stream = HexFormat.of().parseHex("5145564e00000003");
        assertRejected(stream, ProtocolError.INVALID_FIELD,
                "not a QEMU migration stream: magic 0x5145564e, expected 0x5145564d ('QEVM')");
        assertRejected(HexFormat.of().parseHex("5145564d00000002"), ProtocolError.INVALID_FIELD,
                "unsupported migration stream version 2 (expected 3)");
    }

    @Test
    void rejectsRamFlagsLivemigDoesNotRead() throws IOException {
        byte[] stream = wholeStream();
        // Turn the round's HOOK (0x80) into XBZRLE (0x40).
        int hook = indexOf(stream, HexFormat.of().parseHex("02000000000000000000000080")) + 12;
        stream[hook] = 0x40;
        assertRejected(stream, ProtocolError.INVALID_FIELD, "unexpected RAM flags 0x40 in the migration stream"
                + " (livemig reads MEM_SIZE, ZERO, PAGE, CONTINUE, EOS and HOOK)");
    }

    @Test
    void rejectsAMissingFooterAndAnEarlyEnd() throws IOException {
        byte[] stream = wholeStream();
        int footer = indexOf(stream, HexFormat.of().parseHex("00000000000000107e00000000"));
        stream[footer + 8] = 0x7f;
        assertRejected(stream, ProtocolError.INVALID_FIELD, "missing footer of section 0: read 0x7f instead of 0x7e");

        byte[] whole = wholeStream();
        assertRejected(java.util.Arrays.copyOf(whole, whole.length - 1), ProtocolError.TRUNCATED,
                "the migration stream ended inside its VMDESCRIPTION");
        assertRejected(java.util.Arrays.copyOf(whole, whole.length - DESCRIPTION.length() - 6), ProtocolError.TRUNCATED,
                "the migration stream ended before its EOF marker");
    }

    @Test
    void rejectsABlockListThatOverrunsItsTotal() {
        byte[] stream = HexFormat.of().parseHex("5145564d00000003" + "01000000000372616d0000000000000004"
                + "0000000000002004" + "0161" + "0000000000003000");
        assertRejected(stream, ProtocolError.INVALID_FIELD,
                "RAM block 'a' has used length 12288, which does not fit the announced total of 8192 bytes");
    }

    @Test
    void rejectsAnEndOfStreamBeforeTheFinalRamPart() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        MigrationStreamWriter writer = new MigrationStreamWriter(new DataOutputStream(bytes));
        writer.writeHeader();
        writer.beginRamSetup(BLOCKS);
        writer.endRamPart();
        writer.writeEof();
        assertRejected(bytes.toByteArray(), ProtocolError.INVALID_FIELD,
                "the migration stream ended before the final RAM part");
    }

    @Test
    void writerEnforcesPartOrder() {
        MigrationStreamWriter writer = new MigrationStreamWriter(new DataOutputStream(new ByteArrayOutputStream()));
        assertThatThrownBy(writer::beginRamRound)
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("a RAM part begins after the setup part has ended");
    }

    private static void read(byte[] stream, List<String> events) throws IOException {
        new MigrationStreamReader(new DataInputStream(new ByteArrayInputStream(stream)), 1 << 20)
                .readAll(new MigrationStreamReader.Listener() {
                    @Override
                    public void ramBlockList(List<BlockListEntry> blocks) {
                        events.add("blocks " + blocks);
                    }

                    @Override
                    public void ramHook(RamPhase phase) {
                        events.add("hook " + phase);
                    }

                    @Override
                    public void fullSection(String idstr, int instanceId, int versionId, byte[] state) {
                        events.add("state " + idstr + "/" + instanceId + "/" + versionId + " "
                                + java.util.Arrays.toString(state));
                    }
                });
    }

    private static void assertRejected(byte[] stream, ProtocolError error, String message) {
        assertThatThrownBy(() -> read(stream, new ArrayList<>()))
                .isInstanceOf(ProtocolException.class)
                .hasMessage(message)
                .satisfies(e -> assertThat(((ProtocolException) e).error()).isEqualTo(error));
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }
}
