package io.livemig.migration.auth;

import static io.livemig.migration.auth.AuthProofTest.CAPABILITIES;
import static io.livemig.migration.auth.AuthProofTest.KEY;
import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.migration.auth.ProofVerifier.Verdict;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The destination's check: missing, wrong, stale and replayed proofs are refused, and the cache stays bounded. */
class ProofVerifierTest {

    private static final long NOW = 1_700_000_000_000L;
    private final AtomicLong clock = new AtomicLong(NOW);
    private final InstantSource source = () -> Instant.ofEpochMilli(clock.get());
    private final ProofVerifier verifier = new ProofVerifier(KEY, source);

    private static byte[] proof(AuthKey key, long timestamp, int nonce) {
        byte[] nonceBytes = ByteBuffer.allocate(AuthProof.NONCE_BYTES).putInt(8, nonce).array();
        return AuthProof.sign(key, CAPABILITIES, timestamp, nonceBytes).toBytes();
    }

    @Test
    void aFreshProofOfTheKeyIsAcceptedOnce() {
        byte[] proof = proof(KEY, NOW, 1);
        assertThat(verifier.verify(proof)).isEqualTo(Verdict.ACCEPTED);
        assertThat(verifier.verify(proof)).isEqualTo(Verdict.REPLAYED);
        assertThat(verifier.verify(proof(KEY, NOW, 2))).isEqualTo(Verdict.ACCEPTED);
    }

    @Test
    void capabilitiesWithoutAProofAreMissing() {
        assertThat(verifier.verify(CAPABILITIES)).isEqualTo(Verdict.MISSING);
        assertThat(Verdict.MISSING.description()).isEqualTo("no authentication proof (the source has no --auth-key-file?)");
    }

    @Test
    void anotherKeysProofIsWrong() {
        AuthKey other = AuthKey.of("another key of 32 bytes, padding".getBytes());
        assertThat(verifier.verify(proof(other, NOW, 1))).isEqualTo(Verdict.WRONG);
        assertThat(Verdict.WRONG.description()).isEqualTo("wrong authentication proof (another key?)");
    }

    @Test
    void aTimestampMoreThanSixtySecondsAwayEitherWayIsStale() {
        assertThat(verifier.verify(proof(KEY, NOW - 60_001, 1))).isEqualTo(Verdict.STALE);
        assertThat(verifier.verify(proof(KEY, NOW + 60_001, 2))).isEqualTo(Verdict.STALE);
        assertThat(verifier.verify(proof(KEY, NOW - 60_000, 3))).isEqualTo(Verdict.ACCEPTED);
        assertThat(verifier.verify(proof(KEY, NOW + 60_000, 4))).isEqualTo(Verdict.ACCEPTED);
        assertThat(Verdict.STALE.description())
                .isEqualTo("stale authentication proof (timestamp more than 60 s from this host's clock)");
    }

    @Test
    void aReplayAfterTheWindowIsStaleAndItsNonceForgotten() {
        byte[] proof = proof(KEY, NOW, 1);
        assertThat(verifier.verify(proof)).isEqualTo(Verdict.ACCEPTED);
        clock.set(NOW + 60_001);
        assertThat(verifier.verify(proof)).isEqualTo(Verdict.STALE);
        assertThat(verifier.verify(proof(KEY, NOW + 60_001, 2))).isEqualTo(Verdict.ACCEPTED);
        assertThat(verifier.remembered()).isEqualTo(1);
    }

    @Test
    void theReplayCacheIsBounded() {
        for (int i = 0; i < ProofVerifier.MAX_REMEMBERED + 10; i++) {
            assertThat(verifier.verify(proof(KEY, NOW, i))).isEqualTo(Verdict.ACCEPTED);
        }
        assertThat(verifier.remembered()).isEqualTo(ProofVerifier.MAX_REMEMBERED);
        assertThat(verifier.verify(proof(KEY, NOW, ProofVerifier.MAX_REMEMBERED + 9))).isEqualTo(Verdict.REPLAYED);
    }

    @Test
    void proofsThatFailTheMacNeverEnterTheCache() {
        AuthKey other = AuthKey.of(new byte[32]);
        for (int i = 0; i < 100; i++) {
            verifier.verify(proof(other, NOW, i));
        }
        assertThat(verifier.remembered()).isZero();
    }
}
