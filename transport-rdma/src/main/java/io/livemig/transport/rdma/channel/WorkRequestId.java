package io.livemig.transport.rdma.channel;

/**
 * The layout of a {@code wr_id}: the owning registration in the high 32 bits (so the event loop can dispatch a
 * completion without knowing which queue it came from), then the channel's own 32-bit local id, itself a kind in
 * the top 8 bits and a slot index in the low 24.
 */
final class WorkRequestId {

    /** A SEND from a send-ring slot. */
    static final int SEND = 1;
    /** A SEND that only carries receive credits (no payload, no slot). */
    static final int GRANT = 2;
    /** An RDMA WRITE (with or without immediate data). */
    static final int WRITE = 3;
    /** An RDMA READ. */
    static final int READ = 4;
    /** A receive into a receive-ring slot. */
    static final int RECEIVE = 5;
    /** A SEND straight from the application's buffer in a region registered on the channel (no slot, no copy). */
    static final int SEND_REGISTERED = 6;

    private static final int INDEX_BITS = 24;
    private static final int INDEX_MASK = (1 << INDEX_BITS) - 1;
    /** The largest slot index the layout can carry. */
    static final int MAX_INDEX = INDEX_MASK;

    private WorkRequestId() {
    }

    static int local(int kind, int index) {
        return kind << INDEX_BITS | index & INDEX_MASK;
    }

    static long pack(int registration, int local) {
        return (long) registration << 32 | local & 0xFFFF_FFFFL;
    }

    static int registration(long wrId) {
        return (int) (wrId >>> 32);
    }

    static int local(long wrId) {
        return (int) wrId;
    }

    static int kind(long wrId) {
        return (int) wrId >>> INDEX_BITS & 0xFF;
    }

    static int index(long wrId) {
        return (int) wrId & INDEX_MASK;
    }
}
