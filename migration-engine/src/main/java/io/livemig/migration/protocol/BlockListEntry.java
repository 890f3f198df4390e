package io.livemig.migration.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * One entry of the block list after MEM_SIZE in the setup RAM section (spec sections 4.2 and 8.3):
 * {@code u8 len, idstr (len bytes, no terminator), be64 used_length}. The destination matches blocks
 * by this name, in this order.
 *
 * @param idstr the block's name (QEMU's {@code RAMBlock.idstr}), 1 to 255 bytes of UTF-8 without NUL
 * @param usedLength the block's used length in bytes
 */
public record BlockListEntry(String idstr, long usedLength) {

    /** Longest name in bytes (the length prefix is one byte). */
    public static final int MAX_NAME_BYTES = 255;

    /**
     * Checks the name.
     *
     * @throws IllegalArgumentException for an empty, over-long or NUL-containing name, or a negative length
     */
    public BlockListEntry {
        String problem = nameProblem(idstr);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        if (usedLength < 0) {
            throw new IllegalArgumentException("RAM block '" + idstr + "' has negative used length " + usedLength);
        }
    }

    private static String nameProblem(String idstr) {
        if (idstr == null || idstr.isEmpty()) {
            return "RAM block name is empty";
        }
        if (idstr.indexOf('\0') >= 0) {
            return "RAM block name contains a NUL character";
        }
        int bytes = idstr.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_NAME_BYTES) {
            return "RAM block name is " + bytes + " bytes long; at most " + MAX_NAME_BYTES + " fit the stream";
        }
        return null;
    }

    /**
     * Encoded size in bytes.
     *
     * @return {@code 1 + name bytes + 8}
     */
    public int encodedSize() {
        return 1 + idstr.getBytes(StandardCharsets.UTF_8).length + Long.BYTES;
    }

    /**
     * Writes the entry.
     *
     * @param out the stream
     */
    public void encode(ByteBuf out) {
        byte[] name = idstr.getBytes(StandardCharsets.UTF_8);
        out.writeByte(name.length);
        out.writeBytes(name);
        out.writeLong(usedLength);
    }

    /**
     * Reads one entry.
     *
     * @param in the stream
     * @return the entry
     * @throws ProtocolException {@link ProtocolError#TRUNCATED} if the input ends inside the entry,
     *     {@link ProtocolError#INVALID_FIELD} for an empty name, invalid UTF-8, a NUL or a negative length
     */
    public static BlockListEntry decode(ByteBuf in) {
        Wire.requireReadable(in, 1, "RAM block list entry");
        int start = in.readerIndex();
        int nameLength = in.getUnsignedByte(start);
        if (nameLength == 0) {
            throw new ProtocolException(ProtocolError.INVALID_FIELD, "RAM block list entry has an empty name");
        }
        int size = 1 + nameLength + Long.BYTES;
        Wire.requireReadable(in, size, "RAM block list entry");
        String name;
        try {
            ByteBuffer nameBytes = in.nioBuffer(start + 1, nameLength);
            name = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(nameBytes)
                    .toString();
        } catch (CharacterCodingException e) {
            throw new ProtocolException(ProtocolError.INVALID_FIELD, "RAM block name is not valid UTF-8");
        }
        long usedLength = in.getLong(start + 1 + nameLength);
        String problem = nameProblem(name);
        if (problem != null) {
            throw new ProtocolException(ProtocolError.INVALID_FIELD, problem);
        }
        if (usedLength < 0) {
            throw new ProtocolException(ProtocolError.INVALID_FIELD, "RAM block '" + name
                    + "' has used length " + Long.toUnsignedString(usedLength) + ", above 2^63 - 1");
        }
        in.skipBytes(size);
        return new BlockListEntry(name, usedLength);
    }
}
