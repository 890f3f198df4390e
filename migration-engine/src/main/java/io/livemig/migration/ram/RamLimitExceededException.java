package io.livemig.migration.ram;

/**
 * A destination was asked to allocate more RAM than its configured limit allows.
 */
public final class RamLimitExceededException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final long requested;
    private final long limit;

    /**
     * Creates the exception.
     *
     * @param blocks number of blocks announced
     * @param requested bytes they need in total
     * @param limit the destination's memory limit in bytes
     */
    public RamLimitExceededException(int blocks, long requested, long limit) {
        super("the source announces " + blocks + " RAM block" + (blocks == 1 ? "" : "s") + " of " + requested
                + " bytes in total, above this destination's memory limit of " + limit + " bytes");
        this.requested = requested;
        this.limit = limit;
    }

    /**
     * Bytes the announced blocks need.
     *
     * @return the requested total
     */
    public long requested() {
        return requested;
    }

    /**
     * The configured limit.
     *
     * @return bytes
     */
    public long limit() {
        return limit;
    }
}
