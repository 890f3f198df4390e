package io.livemig.migration.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.util.AbstractReferenceCounted;
import io.netty.util.ReferenceCounted;
import java.util.List;
import java.util.Objects;

/**
 * One control message: a {@link ControlHeader} plus its typed payload (spec section 3). Records are
 * decoded into value objects; a QEMU FILE payload stays a {@link ByteBuf} slice of the received
 * buffer, so stream bytes are never copied on the way in.
 *
 * <p>A message is {@link ReferenceCounted}: it owns its QEMU FILE data and releases it when its count
 * drops to zero. Messages without data hold nothing, but are released the same way so that callers can
 * treat every message alike.
 */
public final class ControlMessage extends AbstractReferenceCounted {

    /** Largest QEMU FILE payload a sender puts in one message (RDMA_SEND_INCREMENT). */
    public static final int MAX_QEMU_FILE_PAYLOAD = 32768;

    private final ControlType type;
    private final int repeat;
    private final List<ControlRecord> records;
    private final ByteBuf data;

    ControlMessage(ControlType type, int repeat, List<? extends ControlRecord> records, ByteBuf data) {
        this.type = type;
        this.repeat = repeat;
        this.records = List.copyOf(records);
        this.data = data;
    }

    /**
     * READY: "a receive buffer is posted, you may SEND one message" (len 0, repeat 1).
     *
     * @return the message
     */
    public static ControlMessage ready() {
        return signal(ControlType.READY, 1);
    }

    /**
     * ERROR: the sender failed or cancelled (len 0, repeat 1).
     *
     * @return the message
     */
    public static ControlMessage error() {
        return signal(ControlType.ERROR, 1);
    }

    /**
     * RAM BLOCKS REQUEST (len 0, repeat 1).
     *
     * @return the message
     */
    public static ControlMessage ramBlocksRequest() {
        return signal(ControlType.RAM_BLOCKS_REQUEST, 1);
    }

    /**
     * REGISTER FINISHED: the source's writes of this round have all completed (len 0, repeat 1).
     *
     * @return the message
     */
    public static ControlMessage registerFinished() {
        return signal(ControlType.REGISTER_FINISHED, 1);
    }

    /**
     * UNREGISTER FINISHED, echoing the request's repeat (len 0).
     *
     * @param repeat the UNREGISTER REQUEST's repeat
     * @return the message
     */
    public static ControlMessage unregisterFinished(int repeat) {
        return signal(ControlType.UNREGISTER_FINISHED, repeat);
    }

    private static ControlMessage signal(ControlType type, int repeat) {
        return new ControlMessage(type, repeat, List.of(), null);
    }

    /**
     * RAM BLOCKS RESULT: the destination's block table, in the source's order.
     *
     * @param blocks at most {@link RemoteBlock#MAX_PER_MESSAGE} blocks
     * @return the message (repeat 1, as QEMU sends it)
     */
    public static ControlMessage ramBlocksResult(List<RemoteBlock> blocks) {
        if (blocks.size() > RemoteBlock.MAX_PER_MESSAGE) {
            throw new IllegalArgumentException(blocks.size() + " RAM blocks do not fit one RAM BLOCKS RESULT (at most "
                    + RemoteBlock.MAX_PER_MESSAGE + ")");
        }
        return new ControlMessage(ControlType.RAM_BLOCKS_RESULT, 1, blocks, null);
    }

    /**
     * COMPRESS: one range for the destination to fill.
     *
     * @param range the range
     * @return the message (repeat 1)
     */
    public static ControlMessage compress(Compress range) {
        return new ControlMessage(ControlType.COMPRESS, 1, List.of(range), null);
    }

    /**
     * REGISTER REQUEST. A source talking to QEMU should send exactly one record (spec section 3.2).
     *
     * @param requests 1 to {@link ControlHeader#MAX_COMMANDS_PER_MESSAGE} records
     * @return the message, repeat = number of records
     */
    public static ControlMessage registerRequest(List<RegisterRequest> requests) {
        return requests(ControlType.REGISTER_REQUEST, requests);
    }

    /**
     * UNREGISTER REQUEST (the key of each record is a chunk number).
     *
     * @param requests 1 to {@link ControlHeader#MAX_COMMANDS_PER_MESSAGE} records
     * @return the message, repeat = number of records
     */
    public static ControlMessage unregisterRequest(List<RegisterRequest> requests) {
        return requests(ControlType.UNREGISTER_REQUEST, requests);
    }

    /**
     * REGISTER RESULT with {@code len = 16 × repeat}, as the spec asks of a non-QEMU destination.
     *
     * @param results one result per request record, 1 to {@link ControlHeader#MAX_COMMANDS_PER_MESSAGE}
     * @return the message, repeat = number of results
     */
    public static ControlMessage registerResult(List<RegisterResult> results) {
        return requests(ControlType.REGISTER_RESULT, results);
    }

    private static ControlMessage requests(ControlType type, List<? extends ControlRecord> records) {
        if (records.isEmpty() || records.size() > ControlHeader.MAX_COMMANDS_PER_MESSAGE) {
            throw new IllegalArgumentException(type.displayName() + " must carry 1 to "
                    + ControlHeader.MAX_COMMANDS_PER_MESSAGE + " records, not " + records.size());
        }
        return new ControlMessage(type, records.size(), records, null);
    }

    /**
     * QEMU FILE: a piece of the migration byte stream (repeat 0, as QEMU 8.2 and later send it). Takes
     * ownership of {@code data} on success; on failure the caller keeps it.
     *
     * @param data 1 to {@link #MAX_QEMU_FILE_PAYLOAD} readable bytes
     * @return the message
     */
    public static ControlMessage qemuFile(ByteBuf data) {
        int n = data.readableBytes();
        if (n == 0 || n > MAX_QEMU_FILE_PAYLOAD) {
            throw new IllegalArgumentException("a QEMU FILE message carries 1 to " + MAX_QEMU_FILE_PAYLOAD
                    + " bytes, not " + n);
        }
        return new ControlMessage(ControlType.QEMU_FILE, 0, List.of(), data);
    }

    /**
     * The message type.
     *
     * @return the type
     */
    public ControlType type() {
        return type;
    }

    /**
     * The header's {@code repeat}. For REGISTER RESULT from a QEMU destination it can exceed the number
     * of records present (see {@link #registerResults()}); for QEMU FILE it is meaningless.
     *
     * @return repeat as sent
     */
    public int repeat() {
        return repeat;
    }

    /**
     * Payload length in bytes: the header's {@code len}.
     *
     * @return payload bytes
     */
    public int payloadLength() {
        return data != null ? data.readableBytes() : records.size() * type.recordSize();
    }

    /**
     * The header this message is sent with.
     *
     * @return the header
     */
    public ControlHeader header() {
        return new ControlHeader(payloadLength(), type, repeat);
    }

    /**
     * Bytes on the wire: header plus payload.
     *
     * @return {@code 16 + len}
     */
    public int encodedLength() {
        return ControlHeader.SIZE + payloadLength();
    }

    /**
     * The payload records in order (empty for messages without records and for QEMU FILE).
     *
     * @return an unmodifiable list
     */
    public List<ControlRecord> records() {
        return records;
    }

    /**
     * The blocks of a RAM BLOCKS RESULT.
     *
     * @return an unmodifiable list
     * @throws IllegalStateException for another type
     */
    @SuppressWarnings("unchecked")
    public List<RemoteBlock> remoteBlocks() {
        requireOwnType(ControlType.RAM_BLOCKS_RESULT);
        return (List<RemoteBlock>) (List<?>) records;
    }

    /**
     * The records of a REGISTER REQUEST or UNREGISTER REQUEST.
     *
     * @return an unmodifiable list
     * @throws IllegalStateException for another type
     */
    @SuppressWarnings("unchecked")
    public List<RegisterRequest> registerRequests() {
        if (type != ControlType.UNREGISTER_REQUEST) {
            requireOwnType(ControlType.REGISTER_REQUEST);
        }
        return (List<RegisterRequest>) (List<?>) records;
    }

    /**
     * The results of a REGISTER RESULT. A QEMU destination always writes {@code len = 16}, so when it
     * answers a request with repeat &gt; 1 only the first result is on the wire and this list holds one
     * record while {@link #repeat()} says more (spec section 3.2); a source that only sends repeat 1, as
     * it should, never sees the difference.
     *
     * @return an unmodifiable list
     * @throws IllegalStateException for another type
     */
    @SuppressWarnings("unchecked")
    public List<RegisterResult> registerResults() {
        requireOwnType(ControlType.REGISTER_RESULT);
        return (List<RegisterResult>) (List<?>) records;
    }

    /**
     * The range of a COMPRESS.
     *
     * @return the record
     * @throws IllegalStateException for another type
     */
    public Compress compress() {
        requireOwnType(ControlType.COMPRESS);
        return (Compress) records.getFirst();
    }

    /**
     * The stream bytes of a QEMU FILE message, owned by this message (valid until it is released).
     *
     * @return the data
     * @throws IllegalStateException for another type
     */
    public ByteBuf data() {
        requireOwnType(ControlType.QEMU_FILE);
        return data;
    }

    /**
     * Checks that this is the message a receiver waits for, as QEMU's {@code qemu_rdma_exchange_get_response}
     * does: the type must match (any type when {@code expected} is {@link ControlType#NONE}), and ERROR
     * is never acceptable.
     *
     * @param expected the awaited type, or NONE for any
     * @return this message
     * @throws ProtocolException {@link ProtocolError#PEER_ERROR} for ERROR,
     *     {@link ProtocolError#UNEXPECTED_TYPE} for another type
     */
    public ControlMessage requireType(ControlType expected) {
        if (type == ControlType.ERROR) {
            throw new ProtocolException(ProtocolError.PEER_ERROR, "peer sent ERROR while "
                    + (expected == ControlType.NONE ? "a control message" : expected.toString()) + " was expected");
        }
        if (expected != ControlType.NONE && type != expected) {
            throw new ProtocolException(ProtocolError.UNEXPECTED_TYPE, "was expecting a " + expected
                    + " control message, but got " + type + ", length " + payloadLength());
        }
        return this;
    }

    private void requireOwnType(ControlType wanted) {
        if (type != wanted) {
            throw new IllegalStateException("a " + type + " message has no " + wanted.displayName() + " payload");
        }
    }

    /**
     * Writes header and payload (padding as zero). QEMU FILE data is copied into {@code out} without
     * being consumed, so a message can be encoded more than once.
     *
     * @param out the destination buffer, typically a registered send slot
     */
    public void encode(ByteBuf out) {
        header().encode(out);
        for (ControlRecord record : records) {
            record.encode(out);
        }
        if (data != null) {
            out.writeBytes(data, data.readerIndex(), data.readableBytes());
        }
    }

    @Override
    public ControlMessage retain() {
        super.retain();
        return this;
    }

    @Override
    public ControlMessage retain(int increment) {
        super.retain(increment);
        return this;
    }

    @Override
    public ControlMessage touch() {
        return touch(null);
    }

    @Override
    public ControlMessage touch(Object hint) {
        if (data != null) {
            data.touch(hint);
        }
        return this;
    }

    @Override
    protected void deallocate() {
        if (data != null) {
            data.release();
        }
    }

    /**
     * Two messages are equal when their type, repeat and payload (records or stream bytes) are.
     */
    @Override
    public boolean equals(Object o) {
        return o instanceof ControlMessage other
                && type == other.type
                && repeat == other.repeat
                && records.equals(other.records)
                && (data == null ? other.data == null : other.data != null && ByteBufUtil.equals(data, other.data));
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, repeat, records, data == null ? 0 : ByteBufUtil.hashCode(data));
    }

    @Override
    public String toString() {
        String payload = data != null ? "data=" + data.readableBytes() + " bytes" : "records=" + records;
        return "ControlMessage[" + type + ", repeat=" + Integer.toUnsignedString(repeat) + ", " + payload + "]";
    }
}
