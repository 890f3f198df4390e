package io.livemig.migration.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;

/** Spec sections 8.3 and 13.7 (stream fragments). */
class RamStreamTest {

    @Test
    void hookMarker() {
        assertThat(Hex.encode(RamStream::writeHook)).isEqualTo("0000000000000080");
        RamStream.Word word = RamStream.readWord(Hex.buf("00000000 00000080"));
        assertThat(word.has(RamStream.FLAG_HOOK)).isTrue();
        assertThat(word.address()).isZero();
    }

    @Test
    void eosMarker() {
        assertThat(Hex.encode(RamStream::writeEos)).isEqualTo("0000000000000010");
        assertThat(RamStream.readWord(Hex.buf("00000000 00000010")))
                .isEqualTo(new RamStream.Word(0, RamStream.FLAG_EOS));
    }

    @Test
    void memSizeForOneGibibyte() {
        assertThat(Hex.encode(out -> RamStream.writeMemSize(out, 1L << 30))).isEqualTo("0000000040000004");
        RamStream.Word word = RamStream.readWord(Hex.buf("00000000 40000004"));
        assertThat(word.has(RamStream.FLAG_MEM_SIZE)).isTrue();
        assertThat(word.address()).isEqualTo(1L << 30);
    }

    @Test
    void memSizeMustBeWholePages() {
        assertThatThrownBy(() -> Hex.encode(out -> RamStream.writeMemSize(out, 4097)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("total RAM size 4097 is not a whole number of 4096-byte pages");
    }

    @Test
    void blockListEntryForPcRam() {
        BlockListEntry entry = new BlockListEntry("pc.ram", 1L << 30);
        assertThat(Hex.encode(entry::encode)).isEqualTo("067063 2e72616d 0000000040000000".replace(" ", ""));
        ByteBuf in = Hex.buf("06 70632e72 616d0000 00004000 0000");
        assertThat(BlockListEntry.decode(in)).isEqualTo(entry);
        assertThat(in.isReadable()).isFalse();
        assertThat(entry.encodedSize()).isEqualTo(15);
    }

    @Test
    void blockListEntryRejectsTruncationAndBadNames() {
        assertThatThrownBy(() -> BlockListEntry.decode(Hex.buf("06 70632e72 616d0000 00004000 00")))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("truncated RAM block list entry: 14 of 15 bytes");
        assertThatThrownBy(() -> BlockListEntry.decode(Hex.buf("00 00000000 00000000")))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("RAM block list entry has an empty name");
        assertThatThrownBy(() -> BlockListEntry.decode(Hex.buf("02 c328 00000000 00000000")))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("RAM block name is not valid UTF-8");
        assertThatThrownBy(() -> BlockListEntry.decode(Hex.buf("02 6100 00000000 00000000")))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("RAM block name contains a NUL character");
        assertThatThrownBy(() -> BlockListEntry.decode(Hex.buf("01 61 80000000 00000000")))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("RAM block 'a' has used length 9223372036854775808, above 2^63 - 1");
        assertThatThrownBy(() -> new BlockListEntry("x".repeat(256), 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("RAM block name is 256 bytes long; at most 255 fit the stream");
    }

    @Test
    void streamMagic() {
        assertThat(Hex.encode(out -> out.writeInt(VmStateStream.MAGIC).writeInt(VmStateStream.VERSION)))
                .isEqualTo("5145564d00000003");
    }
}
