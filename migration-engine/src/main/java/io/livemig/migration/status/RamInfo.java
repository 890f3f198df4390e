package io.livemig.migration.status;

/**
 * The {@code ram} object of {@code query-migrate} (QEMU's {@code MigrationStats}, spec section 11.3).
 *
 * @param transferred bytes sent: RDMA-written page bytes plus control and stream bytes
 * @param remaining bytes still dirty (to be sent)
 * @param total bytes of RAM being migrated
 * @param duplicate pages sent as COMPRESS (zero pages)
 * @param normal pages written with RDMA WRITE
 * @param normalBytes bytes of those pages
 * @param dirtyPagesRate pages dirtied per second, measured over the last round
 * @param mbps throughput of the last round, megabits per second
 * @param dirtySyncCount dirty bitmap syncs (rounds started)
 * @param pageSize the page size, 4096
 * @param pagesPerSecond pages sent per second over the last round
 * @param precopyBytes bytes sent before the pause
 * @param downtimeBytes bytes sent while paused
 * @param multifdBytes bytes of RDMA WRITEs that completed on the extra channels ({@code multifd}); QEMU's counts
 *        every page, which all go through its multifd channels, while livemig's first connection carries WRITEs too
 */
public record RamInfo(long transferred, long remaining, long total, long duplicate, long normal, long normalBytes,
        long dirtyPagesRate, double mbps, long dirtySyncCount, long pageSize, long pagesPerSecond,
        long precopyBytes, long downtimeBytes, long multifdBytes) {

    /** Nothing yet. */
    public static final RamInfo EMPTY = new RamInfo(0, 0, 0, 0, 0, 0, 0, 0, 0, 4096, 0, 0, 0, 0);
}
