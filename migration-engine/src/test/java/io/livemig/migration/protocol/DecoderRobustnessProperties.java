package io.livemig.migration.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.testing.JqwikLeakCheck;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.List;
import java.util.function.Function;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/**
 * Hostile input: random byte strings and mutated valid messages. Every decoder either succeeds or
 * throws {@link ProtocolException}; nothing else escapes, nothing is read beyond the input (each input
 * sits in a buffer whose capacity is exactly its length, so an over-read would throw
 * {@link IndexOutOfBoundsException}), and nothing is leaked.
 */
@AddLifecycleHook(JqwikLeakCheck.class)
class DecoderRobustnessProperties {

    private static final List<Function<ByteBuf, ?>> STRUCTURE_DECODERS = List.of(
            ControlHeader::decode, RemoteBlock::decode, RegisterRequest::decode, RegisterResult::decode,
            Compress::decode, Capabilities::decode, BlockListEntry::decode, RamStream::readWord);

    @Property(tries = 2000)
    void randomBytesNeverEscapeTheCodecsException(@ForAll @Size(max = 600) byte[] input) {
        for (ControlDecoder decoder : List.of(ControlDecoder.forSource(), ControlDecoder.forDestination())) {
            decodeMessageSafely(decoder, input);
        }
        for (Function<ByteBuf, ?> structure : STRUCTURE_DECODERS) {
            decodeStructureSafely(structure, input);
        }
    }

    @Property(tries = 2000)
    void mutatedValidMessagesNeverEscapeTheCodecsException(@ForAll("mutatedMessages") byte[] input) {
        for (ControlDecoder decoder : List.of(ControlDecoder.forSource(), ControlDecoder.forDestination())) {
            decodeMessageSafely(decoder, input);
        }
    }

    @Property(tries = 500)
    void plausibleHeadersWithRandomPayloadsNeverEscapeTheCodecsException(@ForAll("plausibleMessages") byte[] input) {
        for (ControlDecoder decoder : List.of(ControlDecoder.forSource(), ControlDecoder.forDestination())) {
            decodeMessageSafely(decoder, input);
        }
    }

    private static void decodeMessageSafely(ControlDecoder decoder, byte[] input) {
        ByteBuf in = exactly(input);
        try {
            ControlMessage message = decoder.decode(in);
            try {
                // A message that decodes consumed all of its bytes and re-encodes to an equal message.
                assertThat(in.isReadable()).isFalse();
                ByteBuf again = Unpooled.buffer(message.encodedLength());
                try {
                    message.encode(again);
                    assertThat(again.readableBytes()).isEqualTo(input.length);
                    ControlMessage reread = decoder.decode(again);
                    assertThat(reread).isEqualTo(message);
                    reread.release();
                } finally {
                    again.release();
                }
            } finally {
                message.release();
            }
        } catch (ProtocolException expected) {
            assertThat(expected.getMessage()).isNotBlank();
            assertThat(in.readerIndex()).isZero();
        } finally {
            assertThat(in.refCnt()).isEqualTo(1);
            in.release();
        }
    }

    private static void decodeStructureSafely(Function<ByteBuf, ?> decoder, byte[] input) {
        ByteBuf in = exactly(input);
        try {
            decoder.apply(in);
            assertThat(in.readerIndex()).isLessThanOrEqualTo(input.length);
        } catch (ProtocolException expected) {
            assertThat(expected.getMessage()).isNotBlank();
        } finally {
            in.release();
        }
    }

    /** A buffer that cannot grow and ends exactly where the input does. */
    private static ByteBuf exactly(byte[] input) {
        return Unpooled.wrappedBuffer(input.clone()).asReadOnly();
    }

    @Provide
    Arbitrary<byte[]> mutatedMessages() {
        Arbitrary<byte[]> valid = ProtocolArbitraries.messages().map(message -> {
            try {
                ByteBuf out = Unpooled.buffer(message.encodedLength());
                message.encode(out);
                byte[] bytes = new byte[out.readableBytes()];
                out.readBytes(bytes);
                out.release();
                return bytes;
            } finally {
                message.release();
            }
        });
        return Combinators.combine(valid, Arbitraries.integers().between(0, 3),
                Arbitraries.integers().between(0, Integer.MAX_VALUE), Arbitraries.bytes())
                .as(DecoderRobustnessProperties::mutate);
    }

    private static byte[] mutate(byte[] valid, int kind, int position, byte value) {
        return switch (kind) {
            case 0 -> { // overwrite one byte
                byte[] copy = valid.clone();
                copy[position % copy.length] = value;
                yield copy;
            }
            case 1 -> java.util.Arrays.copyOf(valid, position % valid.length); // truncate
            case 2 -> { // append a byte
                byte[] copy = java.util.Arrays.copyOf(valid, valid.length + 1);
                copy[valid.length] = value;
                yield copy;
            }
            default -> { // flip one bit of the header
                byte[] copy = valid.clone();
                int bit = position % (ControlHeader.SIZE * 8);
                copy[bit / 8] ^= (byte) (1 << (bit % 8));
                yield copy;
            }
        };
    }

    @Provide
    Arbitrary<byte[]> plausibleMessages() {
        // Lengths that match the bytes received and known types, so the payload checks are reached.
        return Combinators.combine(Arbitraries.integers().between(0, 11), Arbitraries.integers().between(0, 5),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(200))
                .as((type, repeat, payload) -> {
                    ByteBuf out = Unpooled.buffer();
                    out.writeInt(payload.length).writeInt(type).writeInt(repeat).writeInt(0).writeBytes(payload);
                    byte[] bytes = new byte[out.readableBytes()];
                    out.readBytes(bytes);
                    out.release();
                    return bytes;
                });
    }
}
