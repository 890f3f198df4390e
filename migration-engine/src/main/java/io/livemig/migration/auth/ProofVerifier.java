package io.livemig.migration.auth;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;

/**
 * The destination's check of a connect request's {@link AuthProof}: signed with the key, timestamped within
 * {@link #WINDOW} of this host's clock, and not seen before. Nonces of accepted proofs are remembered for as long
 * as their timestamp stays within the window, at most {@link #MAX_REMEMBERED}; only proofs with a valid MAC enter
 * the cache, so a peer without the key cannot fill it. Thread-safe.
 */
public final class ProofVerifier {

    /** How far a proof's timestamp may be from this host's clock, either way. */
    public static final Duration WINDOW = Duration.ofSeconds(60);
    /** Most nonces remembered; past it the oldest is forgotten (that takes this many valid connects in 2 min). */
    static final int MAX_REMEMBERED = 4096;

    /** Why a proof was refused, with the words the destination logs. */
    public enum Verdict {
        /** A valid, fresh, unseen proof. */
        ACCEPTED("accepted"),
        /** No proof after the capabilities: a source without a key, or QEMU. */
        MISSING("no authentication proof (the source has no --auth-key-file?)"),
        /** The MAC is not the key's: another key. */
        WRONG("wrong authentication proof (another key?)"),
        /** The timestamp is outside the window. */
        STALE("stale authentication proof (timestamp more than 60 s from this host's clock)"),
        /** The nonce was accepted before: a captured proof sent again. */
        REPLAYED("replayed authentication proof");

        private final String description;

        Verdict(String description) {
            this.description = description;
        }

        /**
         * The words for the log.
         *
         * @return for example "replayed authentication proof"
         */
        public String description() {
            return description;
        }
    }

    private final AuthKey key;
    private final InstantSource clock;
    /** Nonces of accepted proofs, oldest first, with the set for lookups; guarded by {@code this}. */
    private final ArrayDeque<Remembered> order = new ArrayDeque<>();
    private final Set<ByteBuffer> seen = new HashSet<>();

    private record Remembered(ByteBuffer nonce, long timestampMillis) {
    }

    /**
     * A verifier on the system clock.
     *
     * @param key the shared key
     */
    public ProofVerifier(AuthKey key) {
        this(key, InstantSource.system());
    }

    /**
     * A verifier on a given clock (tests).
     *
     * @param key the shared key
     * @param clock this host's clock
     */
    public ProofVerifier(AuthKey key, InstantSource clock) {
        this.key = key;
        this.clock = clock;
    }

    /**
     * Checks a connect request's private data.
     *
     * @param privateData the request's private data, capabilities first
     * @return {@link Verdict#ACCEPTED} or why not
     */
    public Verdict verify(byte[] privateData) {
        AuthProof proof = AuthProof.read(privateData);
        if (proof == null) {
            return Verdict.MISSING;
        }
        // The MAC first: a stranger learns nothing about the window or the cache.
        if (!proof.signedWith(key)) {
            return Verdict.WRONG;
        }
        long now = clock.millis();
        if (Math.abs(now - proof.timestampMillis()) > WINDOW.toMillis()) {
            return Verdict.STALE;
        }
        synchronized (this) {
            forgetOlderThan(now - WINDOW.toMillis());
            ByteBuffer nonce = ByteBuffer.wrap(proof.nonce());
            if (!seen.add(nonce)) {
                return Verdict.REPLAYED;
            }
            order.addLast(new Remembered(nonce, proof.timestampMillis()));
            if (order.size() > MAX_REMEMBERED) {
                seen.remove(order.removeFirst().nonce());
            }
        }
        return Verdict.ACCEPTED;
    }

    /**
     * How many nonces are remembered now.
     *
     * @return the count, at most {@link #MAX_REMEMBERED}
     */
    synchronized int remembered() {
        return seen.size();
    }

    /** A nonce whose timestamp left the window cannot be replayed: the staleness check refuses it first. */
    private void forgetOlderThan(long oldestMillis) {
        // Timestamps come from different sources' clocks, so the deque is only roughly ordered; an entry that stays
        // a little longer behind a younger one is harmless.
        while (!order.isEmpty() && order.peekFirst().timestampMillis() < oldestMillis) {
            seen.remove(order.removeFirst().nonce());
        }
    }
}
