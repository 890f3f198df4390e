package io.livemig.migration.protocol;

import io.netty.buffer.ByteBuf;

/**
 * A fixed-size, big-endian record carried in a control message payload.
 */
public sealed interface ControlRecord permits RemoteBlock, RegisterRequest, RegisterResult, Compress {

    /**
     * Writes the record, padding as zero.
     *
     * @param out the destination buffer
     */
    void encode(ByteBuf out);

    /**
     * Encoded size in bytes.
     *
     * @return the record size
     */
    int encodedSize();
}
