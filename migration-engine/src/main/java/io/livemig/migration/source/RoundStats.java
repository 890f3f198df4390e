package io.livemig.migration.source;

/**
 * What one round moved, in the units of QEMU's {@code query-migrate} (spec section 11.3).
 *
 * @param normalPages pages written with RDMA WRITE ({@code ram.normal})
 * @param normalBytes bytes written ({@code ram.normal-bytes}; also added to {@code transferred})
 * @param duplicatePages pages sent as COMPRESS ({@code ram.duplicate})
 * @param writes RDMA WRITEs posted
 * @param registrations REGISTER REQUESTs exchanged
 */
public record RoundStats(long normalPages, long normalBytes, long duplicatePages, long writes, long registrations) {

    /** Nothing moved. */
    public static final RoundStats EMPTY = new RoundStats(0, 0, 0, 0, 0);

    /**
     * Sums two rounds.
     *
     * @param other another round
     * @return the sum
     */
    public RoundStats plus(RoundStats other) {
        return new RoundStats(normalPages + other.normalPages, normalBytes + other.normalBytes,
                duplicatePages + other.duplicatePages, writes + other.writes, registrations + other.registrations);
    }
}
