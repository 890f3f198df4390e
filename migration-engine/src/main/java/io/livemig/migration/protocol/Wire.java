package io.livemig.migration.protocol;

import io.netty.buffer.ByteBuf;

/** Bounds checks shared by the decoders, so that no decoder ever reads past its input. */
final class Wire {

    private Wire() {
    }

    /**
     * Fails with {@link ProtocolError#TRUNCATED} unless {@code in} has at least {@code size} readable bytes.
     *
     * @param in the input
     * @param size bytes the caller is about to read
     * @param what the structure being read, for the message
     */
    static void requireReadable(ByteBuf in, int size, String what) {
        int readable = in.readableBytes();
        if (readable < size) {
            throw new ProtocolException(ProtocolError.TRUNCATED,
                    "truncated " + what + ": " + readable + " of " + size + " bytes");
        }
    }

    /** Writes {@code n} zero bytes: padding is always sent as zero. */
    static void writePadding(ByteBuf out, int n) {
        out.writeZero(n);
    }
}
