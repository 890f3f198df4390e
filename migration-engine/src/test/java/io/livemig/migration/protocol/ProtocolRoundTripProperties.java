package io.livemig.migration.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.testing.JqwikLeakCheck;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.function.BiConsumer;
import java.util.function.Function;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/** Every record, header and message decodes to what was encoded, consuming exactly its own bytes. */
@AddLifecycleHook(JqwikLeakCheck.class)
class ProtocolRoundTripProperties {

    @Property
    void remoteBlock(@ForAll("remoteBlocks") RemoteBlock block) {
        assertRoundTrip(block, RemoteBlock.SIZE, RemoteBlock::encode, RemoteBlock::decode);
    }

    @Property
    void registerRequest(@ForAll("registerRequests") RegisterRequest request) {
        assertRoundTrip(request, RegisterRequest.SIZE, RegisterRequest::encode, RegisterRequest::decode);
    }

    @Property
    void registerResult(@ForAll("registerResults") RegisterResult result) {
        assertRoundTrip(result, RegisterResult.SIZE, RegisterResult::encode, RegisterResult::decode);
    }

    @Property
    void compress(@ForAll("compresses") Compress compress) {
        assertRoundTrip(compress, Compress.SIZE, Compress::encode, Compress::decode);
    }

    @Property
    void capabilities(@ForAll("capabilities") Capabilities capabilities) {
        assertRoundTrip(capabilities, Capabilities.SIZE, Capabilities::encode, Capabilities::decode);
        assertThat(Capabilities.decode(capabilities.toBytes())).isEqualTo(capabilities);
    }

    @Property
    void header(@ForAll("headers") ControlHeader header) {
        assertRoundTrip(header, ControlHeader.SIZE, ControlHeader::encode, ControlHeader::decode);
    }

    @Property
    void blockListEntry(@ForAll("blockListEntries") BlockListEntry entry) {
        assertRoundTrip(entry, entry.encodedSize(), BlockListEntry::encode, BlockListEntry::decode);
    }

    @Property(tries = 500)
    void message(@ForAll("messages") ControlMessage message) {
        ByteBuf wire = Unpooled.buffer(message.encodedLength());
        try {
            message.encode(wire);
            assertThat(wire.readableBytes()).isEqualTo(message.encodedLength());
            ControlDecoder decoder = switch (message.type()) {
                case READY, RAM_BLOCKS_RESULT, REGISTER_RESULT, UNREGISTER_FINISHED -> ControlDecoder.forSource();
                default -> ControlDecoder.forDestination();
            };
            ControlMessage decoded = decoder.decode(wire);
            try {
                assertThat(decoded).isEqualTo(message);
                assertThat(decoded.header()).isEqualTo(message.header());
                assertThat(wire.isReadable()).isFalse();
            } finally {
                decoded.release();
            }
        } finally {
            wire.release();
            message.release();
        }
    }

    private static <T> void assertRoundTrip(T value, int size, BiConsumer<T, ByteBuf> encoder,
            Function<ByteBuf, T> decoder) {
        ByteBuf wire = Unpooled.buffer(size);
        try {
            encoder.accept(value, wire);
            assertThat(wire.readableBytes()).isEqualTo(size);
            assertThat(decoder.apply(wire)).isEqualTo(value);
            assertThat(wire.isReadable()).isFalse();
        } finally {
            wire.release();
        }
    }

    @Provide
    Arbitrary<RemoteBlock> remoteBlocks() {
        return ProtocolArbitraries.remoteBlocks();
    }

    @Provide
    Arbitrary<RegisterRequest> registerRequests() {
        return ProtocolArbitraries.registerRequests();
    }

    @Provide
    Arbitrary<RegisterResult> registerResults() {
        return ProtocolArbitraries.registerResults();
    }

    @Provide
    Arbitrary<Compress> compresses() {
        return ProtocolArbitraries.compresses();
    }

    @Provide
    Arbitrary<Capabilities> capabilities() {
        return ProtocolArbitraries.capabilities();
    }

    @Provide
    Arbitrary<ControlHeader> headers() {
        return ProtocolArbitraries.headers();
    }

    @Provide
    Arbitrary<BlockListEntry> blockListEntries() {
        return ProtocolArbitraries.blockListEntries();
    }

    @Provide
    Arbitrary<ControlMessage> messages() {
        return ProtocolArbitraries.messages();
    }
}
