package io.livemig.migration.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.List;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;

/** One test per validation rule of the control decoder (spec section 3.1 to 3.3), with exact messages. */
class ControlDecoderTest {

    private final ControlDecoder destination = ControlDecoder.forDestination();
    private final ControlDecoder source = ControlDecoder.forSource();

    @Test
    void rejectsFewerBytesThanAHeader() {
        assertRejected(destination, "00000000 00000002", ProtocolError.TRUNCATED)
                .hasMessage("truncated control header: 8 of 16 bytes");
        assertRejected(destination, "", ProtocolError.TRUNCATED)
                .hasMessage("truncated control header: 0 of 16 bytes");
    }

    @Test
    void rejectsLengthAbove524272BeforeComparingWithTheBytesReceived() {
        assertRejected(destination, "0007fff1 00000003 00000000 00000000 00", ProtocolError.LENGTH_TOO_LONG)
                .hasMessage("control message too long: length 524273 exceeds the maximum 524272");
        assertRejected(destination, "ffffffff 00000003 00000000 00000000", ProtocolError.LENGTH_TOO_LONG)
                .hasMessage("control message too long: length 4294967295 exceeds the maximum 524272");
    }

    @Test
    void rejectsLengthThatDiffersFromTheBytesReceived() {
        assertRejected(destination, "00000008 00000003 00000000 00000000 01020304", ProtocolError.LENGTH_MISMATCH)
                .hasMessage("malformed length: the header announces 16 + 8 bytes, but 20 bytes were received");
        assertRejected(source, "00000000 00000002 00000001 00000000 00", ProtocolError.LENGTH_MISMATCH)
                .hasMessage("malformed length: the header announces 16 + 0 bytes, but 17 bytes were received");
    }

    @Test
    void rejectsUnknownType() {
        assertRejected(destination, "00000000 0000000c 00000001 00000000", ProtocolError.UNKNOWN_TYPE)
                .hasMessage("unknown control message type 12 (known types are 0 to 11)");
        assertRejected(source, "00000000 80000000 00000001 00000000", ProtocolError.UNKNOWN_TYPE)
                .hasMessage("unknown control message type 2147483648 (known types are 0 to 11)");
    }

    @Test
    void rejectsTypeNoneWhichIsNeverSent() {
        assertRejected(destination, "00000000 00000000 00000001 00000000", ProtocolError.UNEXPECTED_TYPE)
                .hasMessage("control message type NONE (0) is never sent");
    }

    @Test
    void destinationRejectsRepeatAbove4096() {
        String wire = "00000000 00000009 00001001 00000000";
        assertRejected(destination, wire, ProtocolError.REPEAT_TOO_LARGE)
                .hasMessage("too many requests in this message (4097); at most 4096 are allowed");
        // The limit belongs to the destination's registration loop; a source does not apply it.
        assertThat(decodeAndRelease(source, wire).repeat()).isEqualTo(4097);
        assertThat(decodeAndRelease(destination, "00000000 00000009 00001000 00000000").repeat()).isEqualTo(4096);
    }

    @Test
    void acceptsGarbageRepeatAndPaddingInQemuFile() {
        // QEMU before 8.2 left repeat and padding of QEMU FILE headers uninitialised.
        ControlMessage message = destination.decode(Hex.buf("00000002 00000003 d8e6c190 77aa55ee abcd"));
        try {
            assertThat(message.type()).isEqualTo(ControlType.QEMU_FILE);
            assertThat(message.data().readableBytes()).isEqualTo(2);
        } finally {
            message.release();
        }
    }

    @Test
    void rejectsEmptyQemuFile() {
        assertRejected(destination, "00000000 00000003 00000000 00000000", ProtocolError.EMPTY_PAYLOAD)
                .hasMessage("QEMU FILE (3) message carries no data");
    }

    @Test
    void rejectsPayloadOnMessagesThatHaveNone() {
        assertRejected(source, "00000004 00000002 00000001 00000000 00000000", ProtocolError.UNEXPECTED_PAYLOAD)
                .hasMessage("READY (2) carries no payload, but 4 bytes arrived");
        assertRejected(destination, "00000008 00000009 00000001 00000000 00000000 00000000",
                ProtocolError.UNEXPECTED_PAYLOAD)
                .hasMessage("REGISTER FINISHED (9) carries no payload, but 8 bytes arrived");
    }

    @Test
    void rejectsPayloadThatIsNotAWholeNumberOfRecords() {
        assertRejected(destination, "00000019 00000007 00000001 00000000 " + "00".repeat(25),
                ProtocolError.PAYLOAD_NOT_WHOLE_RECORDS)
                .hasMessage("REGISTER REQUEST (7) payload of 25 bytes is not a whole number of 24-byte records");
        assertRejected(source, "00000021 00000005 00000001 00000000 " + "00".repeat(33),
                ProtocolError.PAYLOAD_NOT_WHOLE_RECORDS)
                .hasMessage("RAM BLOCKS RESULT (5) payload of 33 bytes is not a whole number of 32-byte records");
        assertRejected(source, "00000011 00000008 00000001 00000000 " + "00".repeat(17),
                ProtocolError.PAYLOAD_NOT_WHOLE_RECORDS)
                .hasMessage("REGISTER RESULT (8) payload of 17 bytes is not a whole number of 16-byte records");
        assertRejected(destination, "00000017 00000006 00000001 00000000 " + "00".repeat(23),
                ProtocolError.PAYLOAD_NOT_WHOLE_RECORDS)
                .hasMessage("COMPRESS (6) payload of 23 bytes is not a whole number of 24-byte records");
    }

    @Test
    void rejectsRecordCountThatDisagreesWithRepeat() {
        assertRejected(destination, "00000030 00000007 00000001 00000000 " + "00".repeat(48),
                ProtocolError.RECORD_COUNT_MISMATCH)
                .hasMessage("REGISTER REQUEST (7) carries 2 records, but repeat is 1");
        assertRejected(destination, "00000018 0000000a 00000003 00000000 " + "00".repeat(24),
                ProtocolError.RECORD_COUNT_MISMATCH)
                .hasMessage("UNREGISTER REQUEST (10) carries 1 record, but repeat is 3");
        assertRejected(destination, "00000000 00000007 00000000 00000000", ProtocolError.RECORD_COUNT_MISMATCH)
                .hasMessage("REGISTER REQUEST (7) carries no records");
        assertRejected(destination, "00000030 00000006 00000001 00000000 " + "00".repeat(48),
                ProtocolError.RECORD_COUNT_MISMATCH)
                .hasMessage("COMPRESS (6) carries exactly one record, but 2 arrived");
        assertRejected(source, "00000020 00000008 00000003 00000000 " + "00".repeat(32),
                ProtocolError.RECORD_COUNT_MISMATCH)
                .hasMessage("REGISTER RESULT (8) carries 2 records, but repeat is 3");
    }

    @Test
    void acceptsQemusRegisterResultWithLength16UnderALargerRepeat() {
        // A QEMU destination writes len = 16 whatever the repeat: only the first result travels.
        ControlMessage message = decodeAndRelease(source,
                "00000010 00000008 00000003 00000000 00012345 00000000 00007f12 34000000");
        assertThat(message.repeat()).isEqualTo(3);
        assertThat(message.registerResults()).containsExactly(new RegisterResult(0x12345, 0x00007F1234000000L));
    }

    @Test
    void acceptsAnEmptyRamBlocksResult() {
        assertThat(decodeAndRelease(source, "00000000 00000005 00000001 00000000").remoteBlocks()).isEmpty();
    }

    @Test
    void failedDecodeLeavesTheInputUntouchedAndRetainsNothing() {
        ByteBuf in = Hex.buf("00000019 00000007 00000001 00000000 " + "00".repeat(25));
        assertThatThrownBy(() -> destination.decode(in)).isInstanceOf(ProtocolException.class);
        assertThat(in.readerIndex()).isZero();
        assertThat(in.refCnt()).isEqualTo(1);
        in.release();
    }

    @Test
    void receiverChecksTheAwaitedType() {
        ControlMessage ready = ControlMessage.ready();
        assertThat(ready.requireType(ControlType.READY)).isSameAs(ready);
        assertThat(ready.requireType(ControlType.NONE)).isSameAs(ready);
        assertThatThrownBy(() -> ready.requireType(ControlType.REGISTER_RESULT))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("was expecting a REGISTER RESULT (8) control message, but got READY (2), length 0")
                .extracting(e -> ((ProtocolException) e).error()).isEqualTo(ProtocolError.UNEXPECTED_TYPE);
        assertThatThrownBy(() -> ControlMessage.error().requireType(ControlType.NONE))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("peer sent ERROR while a control message was expected")
                .extracting(e -> ((ProtocolException) e).error()).isEqualTo(ProtocolError.PEER_ERROR);
        assertThatThrownBy(() -> ControlMessage.error().requireType(ControlType.ERROR))
                .hasMessage("peer sent ERROR while ERROR (1) was expected");
    }

    @Test
    void encoderRefusesMessagesAPeerWouldReject() {
        ByteBuf empty = Unpooled.buffer(0);
        assertThatThrownBy(() -> ControlMessage.qemuFile(empty))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a QEMU FILE message carries 1 to 32768 bytes, not 0");
        assertThat(empty.refCnt()).isEqualTo(1);
        empty.release();
        ByteBuf tooBig = Unpooled.buffer(32769).writeZero(32769);
        assertThatThrownBy(() -> ControlMessage.qemuFile(tooBig))
                .hasMessage("a QEMU FILE message carries 1 to 32768 bytes, not 32769");
        tooBig.release();
        assertThatThrownBy(() -> ControlMessage.registerRequest(List.of()))
                .hasMessage("REGISTER REQUEST must carry 1 to 4096 records, not 0");
        List<RegisterRequest> tooMany = java.util.Collections.nCopies(4097, new RegisterRequest(0, 0, 0));
        assertThatThrownBy(() -> ControlMessage.registerRequest(tooMany))
                .hasMessage("REGISTER REQUEST must carry 1 to 4096 records, not 4097");
        List<RemoteBlock> blocks = java.util.Collections.nCopies(16384, new RemoteBlock(0, 0, 0, 0));
        assertThatThrownBy(() -> ControlMessage.ramBlocksResult(blocks))
                .hasMessage("16384 RAM blocks do not fit one RAM BLOCKS RESULT (at most 16383)");
    }

    @Test
    void typedAccessorsRefuseOtherTypes() {
        assertThatThrownBy(() -> ControlMessage.ready().remoteBlocks())
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("a READY (2) message has no RAM BLOCKS RESULT payload");
    }

    private static AbstractThrowableAssert<?, ? extends Throwable> assertRejected(ControlDecoder decoder, String hex,
            ProtocolError error) {
        ByteBuf in = Hex.buf(hex);
        try {
            return assertThatThrownBy(() -> decoder.decode(in))
                    .isInstanceOf(ProtocolException.class)
                    .satisfies(e -> assertThat(((ProtocolException) e).error()).isEqualTo(error));
        } finally {
            in.release();
        }
    }

    private static ControlMessage decodeAndRelease(ControlDecoder decoder, String hex) {
        ByteBuf in = Hex.buf(hex);
        try {
            ControlMessage message = decoder.decode(in);
            message.release();
            return message;
        } finally {
            in.release();
        }
    }
}
