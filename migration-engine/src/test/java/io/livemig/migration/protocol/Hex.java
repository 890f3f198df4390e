package io.livemig.migration.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.util.function.Consumer;

/** Hex helpers for the spec's test vectors, written in groups of 4 bytes separated by spaces. */
final class Hex {

    private Hex() {
    }

    /** The vector's bytes in an unpooled heap buffer whose capacity is exactly their length. */
    static ByteBuf buf(String hex) {
        byte[] bytes = ByteBufUtil.decodeHexDump(hex.replace(" ", ""));
        return Unpooled.wrappedBuffer(bytes);
    }

    /** What {@code encoder} writes, as lowercase hex without separators. */
    static String encode(Consumer<ByteBuf> encoder) {
        ByteBuf out = Unpooled.buffer();
        try {
            encoder.accept(out);
            return ByteBufUtil.hexDump(out);
        } finally {
            out.release();
        }
    }

    /** The vector without separators. */
    static String plain(String hex) {
        return hex.replace(" ", "");
    }
}
