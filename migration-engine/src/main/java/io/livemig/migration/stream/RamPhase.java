package io.livemig.migration.stream;

/**
 * The three places the RAM section hands over to an RDMA control phase (QEMU's RAM_CONTROL_SETUP,
 * ROUND and FINISH; local values, never on the wire).
 */
public enum RamPhase {
    /** After the block list of the setup (START) part: RAM BLOCKS REQUEST/RESULT, REGISTER FINISHED. */
    SETUP,
    /** In each iteration (PART): the round's writes, COMPRESS and registrations, then REGISTER FINISHED. */
    ROUND,
    /** In the final (END) part, with the application paused: the last dirty pages. */
    FINISH
}
