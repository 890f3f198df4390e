package io.livemig.migration.protocol;

import io.netty.buffer.Unpooled;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/** Generators for every wire structure, shared by the property tests. */
final class ProtocolArbitraries {

    private ProtocolArbitraries() {
    }

    static Arbitrary<RemoteBlock> remoteBlocks() {
        return Combinators.combine(Arbitraries.longs(), Arbitraries.longs(), Arbitraries.longs(),
                Arbitraries.integers()).as(RemoteBlock::new);
    }

    static Arbitrary<RegisterRequest> registerRequests() {
        return Combinators.combine(Arbitraries.longs(), Arbitraries.integers(), Arbitraries.longs())
                .as(RegisterRequest::new);
    }

    static Arbitrary<RegisterResult> registerResults() {
        return Combinators.combine(Arbitraries.integers(), Arbitraries.longs()).as(RegisterResult::new);
    }

    static Arbitrary<Compress> compresses() {
        return Combinators.combine(Arbitraries.integers(), Arbitraries.integers(), Arbitraries.longs(),
                Arbitraries.longs()).as(Compress::new);
    }

    static Arbitrary<Capabilities> capabilities() {
        return Combinators.combine(Arbitraries.integers(), Arbitraries.integers()).as(Capabilities::new);
    }

    static Arbitrary<ControlHeader> headers() {
        return Combinators.combine(Arbitraries.integers().between(0, ControlHeader.MAX_PAYLOAD_LENGTH),
                Arbitraries.of(ControlType.class), Arbitraries.integers()).as(ControlHeader::new);
    }

    /** Valid messages of every type, as a peer following the spec would send them. */
    static Arbitrary<ControlMessage> messages() {
        return Arbitraries.oneOf(List.of(
                Arbitraries.of(ControlType.READY, ControlType.ERROR, ControlType.RAM_BLOCKS_REQUEST,
                        ControlType.REGISTER_FINISHED).map(ProtocolArbitraries::signal),
                Arbitraries.integers().between(0, ControlHeader.MAX_COMMANDS_PER_MESSAGE)
                        .map(ControlMessage::unregisterFinished),
                remoteBlocks().list().ofMaxSize(40).map(ControlMessage::ramBlocksResult),
                compresses().map(ControlMessage::compress),
                registerRequests().list().ofMinSize(1).ofMaxSize(40).map(ControlMessage::registerRequest),
                registerRequests().list().ofMinSize(1).ofMaxSize(40).map(ControlMessage::unregisterRequest),
                registerResults().list().ofMinSize(1).ofMaxSize(40).map(ControlMessage::registerResult),
                Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(ControlMessage.MAX_QEMU_FILE_PAYLOAD)
                        .map(bytes -> ControlMessage.qemuFile(Unpooled.wrappedBuffer(bytes)))));
    }

    private static ControlMessage signal(ControlType type) {
        return switch (type) {
            case READY -> ControlMessage.ready();
            case ERROR -> ControlMessage.error();
            case RAM_BLOCKS_REQUEST -> ControlMessage.ramBlocksRequest();
            default -> ControlMessage.registerFinished();
        };
    }

    static Arbitrary<BlockListEntry> blockListEntries() {
        return Combinators.combine(
                Arbitraries.strings().ofMinLength(1).ofMaxLength(80).excludeChars('\0')
                        .filter(s -> s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= 255)
                        .filter(s -> s.equals(new String(s.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                                java.nio.charset.StandardCharsets.UTF_8))),
                Arbitraries.longs().greaterOrEqual(0)).as(BlockListEntry::new);
    }
}
