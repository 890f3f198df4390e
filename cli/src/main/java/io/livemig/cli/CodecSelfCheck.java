package io.livemig.cli;

import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.Capabilities;
import io.livemig.migration.protocol.Chunks;
import io.livemig.migration.protocol.Compress;
import io.livemig.migration.protocol.ControlDecoder;
import io.livemig.migration.protocol.ControlMessage;
import io.livemig.migration.protocol.RamStream;
import io.livemig.migration.protocol.RegisterRequest;
import io.livemig.migration.protocol.RegisterResult;
import io.livemig.migration.protocol.RemoteBlock;
import io.livemig.migration.protocol.VmStateStream;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.PrintStream;
import java.util.List;
import java.util.function.Consumer;

/**
 * {@code livemig selfcheck}: encodes the QEMU wire structures of spec section 13 with this build's
 * codec, compares them byte for byte with the published vectors, decodes each whole message back, and
 * reports. A quick way to see that a deployed jar speaks QEMU's protocol.
 */
final class CodecSelfCheck {

    private final PrintStream out;
    private int passed;
    private int failed;

    CodecSelfCheck(PrintStream out) {
        this.out = out;
    }

    /** Runs every check; returns the process exit status (0 when all pass). */
    int run() {
        check("capabilities, pin-all", "00000001 00000001", Capabilities.offer(true)::encode);
        check("capabilities, no flags", "00000001 00000000", Capabilities.offer(false)::encode);
        check("capabilities, reply to flags 0xffffffff", "00000001 60000001",
                new Capabilities(1, 0xFFFFFFFF).negotiateAsDestination()::encode);
        message("READY", "00000000 00000002 00000001 00000000", ControlMessage.ready(), ControlDecoder.forSource());
        message("ERROR", "00000000 00000001 00000001 00000000", ControlMessage.error(),
                ControlDecoder.forDestination());
        message("RAM BLOCKS REQUEST", "00000000 00000004 00000001 00000000", ControlMessage.ramBlocksRequest(),
                ControlDecoder.forDestination());
        message("REGISTER FINISHED", "00000000 00000009 00000001 00000000", ControlMessage.registerFinished(),
                ControlDecoder.forDestination());
        message("UNREGISTER FINISHED", "00000000 0000000b 00000001 00000000", ControlMessage.unregisterFinished(1),
                ControlDecoder.forSource());
        message("RAM BLOCKS RESULT, 2 blocks", "00000040 00000005 00000001 00000000 "
                + "00007f12 34000000 00000000 00000000 00000001 00000000 00001a2b 00000000 "
                + "00007f13 00200000 00000001 00000000 00000000 00040000 00000000 00000000",
                ControlMessage.ramBlocksResult(List.of(
                        new RemoteBlock(0x00007F1234000000L, 0, 4L << 30, 0x1A2B),
                        new RemoteBlock(0x00007F1300200000L, 0x100000000L, 256 << 10, 0))),
                ControlDecoder.forSource());
        message("REGISTER REQUEST", "00000018 00000007 00000001 00000000 "
                + "00000000 00345000 00000000 00000000 00000000 00000000",
                ControlMessage.registerRequest(List.of(new RegisterRequest(0x345000, 0, 0))),
                ControlDecoder.forDestination());
        message("REGISTER RESULT", "00000010 00000008 00000001 00000000 00012345 00000000 00007f12 34000000",
                ControlMessage.registerResult(List.of(new RegisterResult(0x12345, 0x00007F1234000000L))),
                ControlDecoder.forSource());
        message("COMPRESS", "00000018 00000006 00000001 00000000 "
                + "00000000 00000000 00000000 00200000 00000000 00100000",
                ControlMessage.compress(Compress.zero(0, 0x200000, 1 << 20)), ControlDecoder.forDestination());
        ByteBuf magic = Unpooled.buffer(8).writeInt(VmStateStream.MAGIC).writeInt(VmStateStream.VERSION);
        message("QEMU FILE, stream magic", "00000008 00000003 00000000 00000000 5145564d 00000003",
                ControlMessage.qemuFile(magic), ControlDecoder.forDestination());
        check("HOOK marker", "00000000 00000080", RamStream::writeHook);
        check("EOS marker", "00000000 00000010", RamStream::writeEos);
        check("MEM_SIZE, 1 GiB", "00000000 40000004", buf -> RamStream.writeMemSize(buf, 1L << 30));
        check("block list entry pc.ram", "06 70632e72 616d 00000000 40000000",
                new BlockListEntry("pc.ram", 1L << 30)::encode);
        check("nb_chunks(4 GiB) = 4097", "00001001", buf -> buf.writeInt((int) Chunks.count(4L << 30)));

        out.printf("codec self-check %s: %d passed, %d failed%n", failed == 0 ? "passed" : "FAILED", passed, failed);
        return failed == 0 ? 0 : 1;
    }

    private void check(String name, String expectedHex, Consumer<ByteBuf> encoder) {
        ByteBuf buf = Unpooled.buffer();
        try {
            encoder.accept(buf);
            report(name, ByteBufUtil.hexDump(buf).equals(expectedHex.replace(" ", "")));
        } finally {
            buf.release();
        }
    }

    private void message(String name, String expectedHex, ControlMessage message, ControlDecoder decoder) {
        ByteBuf buf = Unpooled.buffer(message.encodedLength());
        try {
            message.encode(buf);
            boolean bytesMatch = ByteBufUtil.hexDump(buf).equals(expectedHex.replace(" ", ""));
            ControlMessage decoded = decoder.decode(buf);
            boolean roundTrips = decoded.equals(message);
            decoded.release();
            report(name, bytesMatch && roundTrips);
        } finally {
            buf.release();
            message.release();
        }
    }

    private void report(String name, boolean ok) {
        if (ok) {
            passed++;
        } else {
            failed++;
        }
        out.printf("  %-4s %s%n", ok ? "ok" : "FAIL", name);
    }
}
