package io.livemig.transport.rdma.verbs.rdmacore;

/**
 * The accounting of one work queue (send or receive) of a queue pair, exactly at the depth the caller asked for.
 * Devices round queue sizes up (rxe to a power of two), so the device alone would accept more than
 * {@code max_send_wr} requests; the SPI promises the caller's number.
 *
 * <p>Each posted request gets the next sequence number, which becomes its native {@code wr_id}; the caller's id and
 * opcode wait in a ring slot until the completion names the sequence again. RC completes a work queue in posting
 * order (IB spec 10.8.3), so a completion for sequence {@code s} retires every slot up to {@code s}: that is how the
 * unsignaled requests before a signaled one are released, as {@code man ibv_post_send} describes.
 *
 * <p>Posting is serialised by the queue pair; retiring happens on the polling thread, hence the volatile.
 *
 * <p>Public for the disni provider, whose queue pairs keep the same accounting over DiSNI's verbs.
 */
public final class WorkQueue {

    /** Set in the native {@code wr_id} of receives, so an error completion (whose opcode is undefined) still says
     * which work queue it belongs to. */
    public static final long RECEIVE_BIT = Long.MIN_VALUE;

    private final int depth;
    private final long[] userIds;
    private final byte[] kinds;
    private long posted;
    private volatile long retired;

    /**
     * A queue of the given depth.
     *
     * @param depth the number of outstanding requests the caller asked for
     */
    public WorkQueue(int depth) {
        this.depth = depth;
        this.userIds = new long[depth];
        this.kinds = new byte[depth];
    }

    /** @return the depth */
    public int depth() {
        return depth;
    }

    /** Whether {@code depth} requests are outstanding. */
    public boolean isFull() {
        return posted - retired >= depth;
    }

    /**
     * Takes the next slot.
     *
     * @param userId the caller's id
     * @param kind what the completion will report (an opcode ordinal)
     * @return the sequence number, the native {@code wr_id} without {@link #RECEIVE_BIT}
     */
    public long reserve(long userId, int kind) {
        long sequence = posted++;
        int slot = (int) (sequence % depth);
        userIds[slot] = userId;
        kinds[slot] = (byte) kind;
        return sequence;
    }

    /** Gives back the slot of the last {@link #reserve} after the device refused the request. */
    public void unreserve() {
        posted--;
    }

    /**
     * @param sequence a reserved sequence
     * @return the caller's id of that slot
     */
    public long userId(long sequence) {
        return userIds[(int) (sequence % depth)];
    }

    /**
     * @param sequence a reserved sequence
     * @return the kind of that slot
     */
    public int kind(long sequence) {
        return kinds[(int) (sequence % depth)];
    }

    /** Retires every slot up to and including {@code sequence}. */
    public void retireThrough(long sequence) {
        if (sequence + 1 > retired) {
            retired = sequence + 1;
        }
    }

    /** The number of outstanding requests. */
    public long outstanding() {
        return posted - retired;
    }
}
