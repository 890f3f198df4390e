package io.livemig.migration.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** The multifd session id on the wire: the accept's 16 bytes, an extra channel's 8, and the marker bit. */
class MultifdSessionTest {

    private static final MultifdSession SESSION = new MultifdSession(0x8123_4567_89ab_cdefL);

    @Test
    void theAcceptCarriesTheCapabilitiesThenTheId() {
        Capabilities negotiated = new Capabilities(1, Capabilities.LIVEMIG | Capabilities.MULTIFD);
        byte[] accept = SESSION.acceptPrivateData(negotiated);
        assertThat(HexFormat.of().formatHex(accept)).isEqualTo("00000001600000008123456789abcdef");
        assertThat(MultifdSession.fromAccept(accept)).isEqualTo(SESSION);
        assertThat(Capabilities.decode(accept)).isEqualTo(negotiated);
    }

    @Test
    void anAcceptWithoutAnIdNamesNoSession() {
        assertThat(MultifdSession.fromAccept(HexFormat.of().parseHex("0000000160000000"))).isNull();
        // InfiniBand pads an accept with zeros: no marker bit, no session.
        assertThat(MultifdSession.fromAccept(new byte[196])).isNull();
    }

    @Test
    void anExtraChannelsConnectIsTheIdWithTheTopBitSet() {
        byte[] connect = SESSION.toBytes();
        assertThat(HexFormat.of().formatHex(connect)).isEqualTo("8123456789abcdef");
        assertThat(MultifdSession.isChannelConnect(connect)).isTrue();
        assertThat(MultifdSession.fromConnect(connect)).isEqualTo(SESSION);
        // Version 1 capabilities (a migration's connect) and short private data are never an extra channel's.
        assertThat(MultifdSession.isChannelConnect(HexFormat.of().parseHex("0000000160000000"))).isFalse();
        assertThat(MultifdSession.isChannelConnect(new byte[] {(byte) 0x80})).isFalse();
        assertThat(MultifdSession.random().id()).isNegative();
    }

    @Test
    void rejectsAnIdWithoutTheMarkerBit() {
        assertThatThrownBy(() -> new MultifdSession(1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a multifd session id has its top bit set, got 0x1");
    }
}
