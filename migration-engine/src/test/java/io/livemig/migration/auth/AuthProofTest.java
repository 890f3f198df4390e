package io.livemig.migration.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.migration.protocol.Capabilities;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** The proof's bytes: a fixed key, timestamp and nonce give one exact layout (vector computed outside Java). */
class AuthProofTest {

    static final AuthKey KEY = AuthKey.of(HexFormat.of().parseHex(
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"));
    static final byte[] CAPABILITIES = Capabilities.offer(true).toBytes();
    static final long TIMESTAMP = 1_700_000_000_123L;
    static final byte[] NONCE = HexFormat.of().parseHex("a0a1a2a3a4a5a6a7a8a9aaab");
    /** Python: hmac.new(key, caps + magic + ts + nonce, sha256).digest()[:24] appended to the signed bytes. */
    static final String VECTOR = "0000000100000001" + "4c4d4131" + "0000018bcfe5687b" + "a0a1a2a3a4a5a6a7a8a9aaab"
            + "87341f8f234465ef55b192c956f2e31a84617431ae5bcfe5";

    @Test
    void signsToTheFixedVector() {
        byte[] bytes = AuthProof.sign(KEY, CAPABILITIES, TIMESTAMP, NONCE).toBytes();
        assertThat(HexFormat.of().formatHex(bytes)).isEqualTo(VECTOR);
        assertThat(bytes).hasSize(AuthProof.SIZE).hasSize(56);
    }

    @Test
    void signsALivemigOfferToItsVectorAndTheMacCoversTheLivemigBit() {
        byte[] capabilities = Capabilities.livemigOffer(true).toBytes();
        byte[] bytes = AuthProof.sign(KEY, capabilities, TIMESTAMP, NONCE).toBytes();
        assertThat(HexFormat.of().formatHex(bytes)).isEqualTo("0000000140000001" + "4c4d4131" + "0000018bcfe5687b"
                + "a0a1a2a3a4a5a6a7a8a9aaab" + "30859383320e49b6c5713c0c6030b88c3a140d9db2baf8d6");
        assertThat(AuthProof.read(bytes).signedWith(KEY)).isTrue();
        // The bit cleared on the way (a proof moved onto QEMU's capabilities) breaks the MAC.
        bytes[4] = 0;
        assertThat(AuthProof.read(bytes).signedWith(KEY)).isFalse();
        assertThat(Capabilities.decode(bytes)).isEqualTo(Capabilities.offer(true));
    }

    @Test
    void readsTheFixedVectorBackFieldByField() {
        AuthProof proof = AuthProof.read(HexFormat.of().parseHex(VECTOR));
        assertThat(proof.capabilities()).isEqualTo(CAPABILITIES);
        assertThat(proof.timestampMillis()).isEqualTo(TIMESTAMP);
        assertThat(proof.nonce()).isEqualTo(NONCE);
        assertThat(HexFormat.of().formatHex(proof.mac())).isEqualTo(VECTOR.substring(64));
        assertThat(proof.signedWith(KEY)).isTrue();
        assertThat(proof).isEqualTo(AuthProof.sign(KEY, CAPABILITIES, TIMESTAMP, NONCE));
    }

    @Test
    void anotherKeyOrAnyChangedByteBreaksTheMac() {
        byte[] other = HexFormat.of().parseHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1e");
        assertThat(AuthProof.read(HexFormat.of().parseHex(VECTOR)).signedWith(AuthKey.of(other))).isFalse();
        for (int i = 0; i < AuthProof.SIZE; i++) {
            if (i >= 8 && i < 12) {
                continue; // The magic: a changed one reads as no proof at all (below).
            }
            byte[] tampered = HexFormat.of().parseHex(VECTOR);
            tampered[i] ^= 0x01;
            assertThat(AuthProof.read(tampered).signedWith(KEY)).as("byte %d flipped", i).isFalse();
        }
    }

    @Test
    void capabilitiesAloneOrWithoutTheMagicAreNoProof() {
        assertThat(AuthProof.read(CAPABILITIES)).isNull();
        // InfiniBand pads a connect's private data with zeros to 56 bytes: still no proof.
        assertThat(AuthProof.read(Arrays.copyOf(CAPABILITIES, 56))).isNull();
        byte[] noMagic = HexFormat.of().parseHex(VECTOR);
        noMagic[11] = 0x32;
        assertThat(AuthProof.read(noMagic)).isNull();
        assertThat(AuthProof.read(Arrays.copyOf(HexFormat.of().parseHex(VECTOR), 55))).isNull();
    }

    @Test
    void theFirstEightBytesAreTheCapabilitiesAQemuDestinationReads() {
        byte[] bytes = HexFormat.of().parseHex(VECTOR);
        assertThat(Capabilities.decode(bytes)).isEqualTo(Capabilities.offer(true));
    }
}
