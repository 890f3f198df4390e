package io.livemig.migration.source;

import io.livemig.migration.observe.MigrationRecorder;
import io.livemig.migration.params.MigrationParameters;
import io.netty.buffer.ByteBufAllocator;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Supplier;
import reactor.core.scheduler.Scheduler;

/**
 * How one outgoing migration runs.
 *
 * @param pinAll whether pin-all was negotiated
 * @param allocator buffers for QEMU FILE messages
 * @param timeout how long any one step may wait for the destination
 * @param maxOutstanding most RDMA WRITEs in flight (at most the send queue depth less the control SEND)
 * @param parameters the parameters in force, read at every round and every write (they may change mid-way)
 * @param autoConverge whether to throttle the workload when it dirties faster than the link drains
 * @param verify whether to send chunk checksums for the destination to check ({@code x-verify})
 * @param timer where bandwidth waits are scheduled (a virtual-time scheduler in tests)
 * @param recorder where metrics go
 * @param registrationBatch most chunks registered by one REGISTER REQUEST (1: QEMU's exact message
 *        sequence, one request per chunk)
 * @param livemigPeer whether the destination echoed {@link io.livemig.migration.protocol.Capabilities#LIVEMIG}:
 *        only then may livemig-only additions be used ({@code verify}, a {@code registrationBatch} above 1, the
 *        application's state section); false means a QEMU destination, which gets exactly QEMU's behaviour
 */
public record SourceOptions(boolean pinAll, ByteBufAllocator allocator, Duration timeout, int maxOutstanding,
        Supplier<MigrationParameters> parameters, boolean autoConverge, boolean verify, Scheduler timer,
        MigrationRecorder recorder, int registrationBatch, boolean livemigPeer) {

    /** RDMA WRITEs in flight by default: 32 MiB of 1 MiB writes, a quarter of the send queue. */
    public static final int DEFAULT_MAX_OUTSTANDING = 32;
    /**
     * Chunks per REGISTER REQUEST by default, reached after a round's first batches of 32 and 128: 512 MiB of
     * chunks per control round trip (a 12 KiB request). A REGISTER REQUEST queues behind the writes in flight, so
     * under load its round trip took 25 to 80 ms on loopback, about as long as writing 128 chunks: with batches of
     * 128 the exchanges, one at a time by protocol, held the writes back (dynamic/pin-all time 1.17-1.19, medians
     * of 11 and 5 repetitions of the two-process benchmark), with 512 they no longer do (1.10 over 15).
     */
    public static final int DEFAULT_REGISTRATION_BATCH = 512;
    /** QEMU's destination refuses a repeat above this (RDMA_CONTROL_MAX_COMMANDS_PER_MESSAGE). */
    public static final int MAX_REGISTRATION_BATCH = 4096;

    /**
     * Checks the options.
     *
     * @throws IllegalArgumentException for a non-positive {@code maxOutstanding}, a batch out of range, or a
     *     livemig-only addition towards a destination that is not livemig
     */
    public SourceOptions {
        Objects.requireNonNull(allocator, "allocator");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(parameters, "parameters");
        Objects.requireNonNull(timer, "timer");
        Objects.requireNonNull(recorder, "recorder");
        if (maxOutstanding < 1) {
            throw new IllegalArgumentException("maxOutstanding must be positive: " + maxOutstanding);
        }
        if (registrationBatch < 1 || registrationBatch > MAX_REGISTRATION_BATCH) {
            throw new IllegalArgumentException("registrationBatch must be 1 to " + MAX_REGISTRATION_BATCH + ": "
                    + registrationBatch);
        }
        if (!livemigPeer && (verify || registrationBatch != 1)) {
            throw new IllegalArgumentException("x-verify and registration batches need a livemig destination; this one"
                    + " did not echo the livemig capability (verify=" + verify + ", registrationBatch="
                    + registrationBatch + ")");
        }
    }

    /**
     * The options for a destination as negotiated: a livemig destination gets everything asked for; any other
     * (QEMU) gets QEMU's behaviour: no x-verify checksums, one chunk per REGISTER REQUEST, no application state.
     *
     * @param pinAll whether pin-all was negotiated
     * @param allocator buffers for QEMU FILE messages
     * @param timeout how long any one step may wait for the destination
     * @param parameters the parameters in force
     * @param autoConverge whether to throttle the workload
     * @param verify whether x-verify was asked for (dropped for a destination that is not livemig)
     * @param timer where bandwidth waits are scheduled
     * @param recorder where metrics go
     * @param livemigPeer whether the destination echoed the livemig capability
     * @return the options, with {@link #DEFAULT_MAX_OUTSTANDING} and {@link #DEFAULT_REGISTRATION_BATCH} or 1
     */
    public static SourceOptions negotiated(boolean pinAll, ByteBufAllocator allocator, Duration timeout,
            Supplier<MigrationParameters> parameters, boolean autoConverge, boolean verify, Scheduler timer,
            MigrationRecorder recorder, boolean livemigPeer) {
        return new SourceOptions(pinAll, allocator, timeout, DEFAULT_MAX_OUTSTANDING, parameters, autoConverge,
                verify && livemigPeer, timer, recorder, livemigPeer ? DEFAULT_REGISTRATION_BATCH : 1, livemigPeer);
    }
}
