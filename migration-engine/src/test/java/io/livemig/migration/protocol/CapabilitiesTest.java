package io.livemig.migration.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import org.junit.jupiter.api.Test;

/** Spec sections 2.3 and 13.1. */
class CapabilitiesTest {

    @Test
    void encodesVersionOneWithPinAll() {
        assertThat(Hex.encode(Capabilities.offer(true)::encode)).isEqualTo("0000000100000001");
        assertThat(ByteBufUtil.hexDump(Capabilities.offer(true).toBytes())).isEqualTo("0000000100000001");
    }

    @Test
    void encodesVersionOneWithoutFlags() {
        assertThat(Hex.encode(Capabilities.offer(false)::encode)).isEqualTo("0000000100000000");
    }

    @Test
    void decodesBothVectors() {
        assertThat(Capabilities.decode(Hex.buf("00000001 00000001"))).isEqualTo(new Capabilities(1, 1));
        assertThat(Capabilities.decode(Hex.buf("00000001 00000000"))).isEqualTo(new Capabilities(1, 0));
        assertThat(Capabilities.decode(Hex.buf("00000001 00000001")).pinAll()).isTrue();
    }

    @Test
    void destinationMasksUnknownFlags() {
        Capabilities request = Capabilities.decode(Hex.buf("00000001 ffffffff"));
        Capabilities reply = request.negotiateAsDestination();
        assertThat(reply).isEqualTo(new Capabilities(1, Capabilities.PIN_ALL | Capabilities.LIVEMIG
                | Capabilities.MULTIFD));
        assertThat(Hex.encode(reply::encode)).isEqualTo("0000000160000001");
    }

    @Test
    void aMultifdSourceOffersBit29WithBit30() {
        assertThat(Hex.encode(Capabilities.livemigOffer(false, true)::encode)).isEqualTo("0000000160000000");
        assertThat(Hex.encode(Capabilities.livemigOffer(true, true)::encode)).isEqualTo("0000000160000001");
        assertThat(Capabilities.livemigOffer(false, true).multifd()).isTrue();
        assertThat(Capabilities.livemigOffer(false, false).multifd()).isFalse();
        // A QEMU destination knows only PIN_ALL and echoes the rest cleared: the source runs one channel.
        Capabilities qemuEcho = Capabilities.decode(Hex.buf("00000001 00000001"));
        assertThat(Capabilities.livemigOffer(true, true).negotiateAsSource(qemuEcho).multifd()).isFalse();
        Capabilities livemigEcho = Capabilities.livemigOffer(true, true).negotiateAsDestination();
        assertThat(Capabilities.livemigOffer(true, true).negotiateAsSource(livemigEcho).multifd()).isTrue();
    }

    @Test
    void aLivemigSourceOffersBit30OnTopOfQemusFlags() {
        assertThat(Hex.encode(Capabilities.livemigOffer(false)::encode)).isEqualTo("0000000140000000");
        assertThat(Hex.encode(Capabilities.livemigOffer(true)::encode)).isEqualTo("0000000140000001");
        assertThat(Capabilities.livemigOffer(true).livemig()).isTrue();
        assertThat(Capabilities.offer(true).livemig()).isFalse();
    }

    @Test
    void aLivemigDestinationEchoesTheBitAndAQemuSourceNeverSetsIt() {
        assertThat(Hex.encode(Capabilities.decode(Hex.buf("00000001 40000001")).negotiateAsDestination()::encode))
                .isEqualTo("0000000140000001");
        assertThat(Hex.encode(Capabilities.decode(Hex.buf("00000001 40000000")).negotiateAsDestination()::encode))
                .isEqualTo("0000000140000000");
        // QEMU's source: the destination runs as QEMU's.
        Capabilities fromQemu = Capabilities.decode(Hex.buf("00000001 00000001")).negotiateAsDestination();
        assertThat(Hex.encode(fromQemu::encode)).isEqualTo("0000000100000001");
        assertThat(fromQemu.livemig()).isFalse();
    }

    @Test
    void theSourceKeepsTheBitOnlyWhenTheDestinationEchoedIt() {
        Capabilities offered = Capabilities.livemigOffer(true);
        Capabilities fromLivemig = offered.negotiateAsSource(Capabilities.decode(Hex.buf("00000001 40000001")));
        assertThat(fromLivemig.livemig()).isTrue();
        assertThat(fromLivemig.pinAll()).isTrue();
        // QEMU's destination echoes flags & 1 (known_capabilities): the bit comes back clear, pin-all stays.
        Capabilities fromQemu = offered.negotiateAsSource(Capabilities.decode(Hex.buf("00000001 00000001")));
        assertThat(fromQemu.livemig()).isFalse();
        assertThat(fromQemu.pinAll()).isTrue();
        assertThat(Hex.encode(fromQemu::encode)).isEqualTo("0000000100000001");
        // No echo at all: a QEMU destination always echoes 8 bytes, so only a DiSNI end leaves it out.
        assertThat(offered.negotiateAsSource(Capabilities.echoed(new byte[0])).livemig()).isTrue();
        assertThat(offered.negotiateAsSource(Capabilities.echoed(new byte[0])).pinAll()).isFalse();
        // A DiSNI destination cannot read the offer: it expects QEMU's behaviour.
        assertThat(Capabilities.negotiateAsDestination(new byte[0]).livemig()).isFalse();
    }

    @Test
    void destinationEchoesNoFlags() {
        assertThat(Capabilities.offer(false).negotiateAsDestination()).isEqualTo(new Capabilities(1, 0));
    }

    @Test
    void destinationRejectsOtherVersions() {
        for (int version : new int[] {0, 2, -1}) {
            assertThatThrownBy(() -> new Capabilities(version, 1).negotiateAsDestination())
                    .isInstanceOf(ProtocolException.class)
                    .hasMessage("unsupported RDMA migration protocol version " + Integer.toUnsignedString(version)
                            + " from source (this destination speaks version 1)")
                    .extracting(e -> ((ProtocolException) e).error())
                    .isEqualTo(ProtocolError.UNSUPPORTED_VERSION);
        }
    }

    @Test
    void sourceFallsBackToDynamicRegistrationWhenTheFlagComesBackClear() {
        Capabilities offered = Capabilities.offer(true);
        assertThat(offered.negotiateAsSource(new Capabilities(1, 0)).pinAll()).isFalse();
        assertThat(offered.negotiateAsSource(new Capabilities(1, 1)).pinAll()).isTrue();
        // The source never gains a capability it did not ask for.
        assertThat(Capabilities.offer(false).negotiateAsSource(new Capabilities(1, 1)).pinAll()).isFalse();
    }

    @Test
    void decodingReadsOnlyTheFirstEightBytesOfLongerPrivateData() {
        byte[] privateData = new byte[56];
        System.arraycopy(Capabilities.offer(true).toBytes(), 0, privateData, 0, 8);
        java.util.Arrays.fill(privateData, 8, 56, (byte) 0xAA);
        assertThat(Capabilities.decode(privateData)).isEqualTo(new Capabilities(1, 1));

        ByteBuf buf = Hex.buf("00000001 00000000 aaaaaaaa");
        assertThat(Capabilities.decode(buf)).isEqualTo(new Capabilities(1, 0));
        assertThat(buf.readableBytes()).isEqualTo(4);
    }

    @Test
    void rejectsTruncatedPrivateData() {
        assertThatThrownBy(() -> Capabilities.decode(new byte[7]))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("truncated RDMA capabilities: 7 of 8 bytes");
    }

    @Test
    void destinationWithoutTheSourcesCapabilitiesServesPinAllAndDynamicRegistration() {
        // DiSNI delivers no private data: the destination pins every block and still answers REGISTER REQUESTs.
        assertThat(Capabilities.negotiateAsDestination(new byte[0])).isEqualTo(new Capabilities(1, 1));
        assertThat(Capabilities.negotiateAsDestination(new byte[7])).isEqualTo(new Capabilities(1, 1));
        assertThat(Capabilities.negotiateAsDestination(java.util.HexFormat.of().parseHex("00000001 00000000".replace(" ", "")))).isEqualTo(
                new Capabilities(1, 0));
        assertThatThrownBy(() -> Capabilities.negotiateAsDestination(java.util.HexFormat.of().parseHex("00000002 00000001".replace(" ", ""))))
                .isInstanceOf(ProtocolException.class);
    }

    @Test
    void missingEchoReadsAsZeroCapabilitiesSoPinAllFallsBackAsInQemu() {
        assertThat(Capabilities.echoed(new byte[0])).isEqualTo(new Capabilities(0, Capabilities.LIVEMIG));
        assertThat(Capabilities.offer(true).negotiateAsSource(Capabilities.echoed(new byte[0])).pinAll()).isFalse();
        assertThat(Capabilities.echoed(java.util.HexFormat.of().parseHex("00000001 00000001".replace(" ", "")))).isEqualTo(new Capabilities(1, 1));
    }
}
