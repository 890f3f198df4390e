package io.livemig.migration.destination;

import io.livemig.migration.control.DestinationControl;
import io.livemig.migration.observe.MigrationRecorder;
import io.livemig.migration.protocol.ControlMessage;
import io.livemig.migration.protocol.ProtocolError;
import io.livemig.migration.protocol.ProtocolException;
import io.livemig.migration.protocol.RegisterRequest;
import io.livemig.migration.protocol.RegisterResult;
import io.livemig.migration.ram.RamBlock;
import io.livemig.migration.source.ZeroRanges;
import io.livemig.migration.stream.RamPhase;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * The destination's registration loop, entered at each HOOK (QEMU's {@code qemu_rdma_registration_handle},
 * spec sections 4 to 6 and 9): the source's messages until REGISTER FINISHED, each handled by
 * {@link #handle}. The loop itself is the destination's Flux of incoming messages, one READY per message
 * handled; this class is what one message does. Every request is checked against the block table before
 * memory is touched; anything out of place is a {@link ProtocolException} (the caller answers it with
 * ERROR). Pin-all's whole-block registrations (gigabytes) run on the given worker, never on the event
 * loop. A REGISTER REQUEST's chunks (at most 4096 regions of 1 MiB) are registered where the request is
 * handled, as QEMU's load thread does: handing each request to another thread cost dynamic mode about
 * 10 % of its throughput (two-process benchmark, 2 GiB, medians of 5: 0.77-0.94 of raw TCP with the hop,
 * 0.99 without, 0.94-1.02 before this design).
 */
public final class RegistrationLoop {

    private final DestinationControl control;
    private final boolean pinAll;
    private final Scheduler worker;
    private DestinationBlockTable table;
    private ChunkRegistrations registrations;
    private long zeroPages;
    private MigrationRecorder recorder = MigrationRecorder.NOOP;

    /**
     * Creates the loop.
     *
     * @param control the destination's control endpoint
     * @param pinAll whether pin-all was negotiated
     * @param worker where registrations run (blocking system calls)
     */
    public RegistrationLoop(DestinationControl control, boolean pinAll, Scheduler worker) {
        this.control = control;
        this.pinAll = pinAll;
        this.worker = worker;
    }

    /**
     * Sets where metrics go.
     *
     * @param recorder the recorder
     * @return this
     */
    public RegistrationLoop recorder(MigrationRecorder recorder) {
        this.recorder = recorder;
        return this;
    }

    /**
     * Sets the block table (after the setup part's block list) and the registrations that serve it.
     *
     * @param table the blocks in source order
     * @param registrations registrations for them, owned by the caller
     */
    public void prepare(DestinationBlockTable table, ChunkRegistrations registrations) {
        this.table = table;
        this.registrations = registrations;
    }

    /**
     * Handles one message of the loop and releases it.
     *
     * @param message the message, owned by this call
     * @param phase which RAM part's HOOK the loop is in
     * @return true when it was REGISTER FINISHED (the loop ends), false to go on, once any response is sent
     */
    public Mono<Boolean> handle(ControlMessage message, RamPhase phase) {
        try {
            if (table == null) {
                throw new IllegalStateException("the block table is not prepared");
            }
            return switch (message.type()) {
                case REGISTER_FINISHED -> Mono.just(true);
                case RAM_BLOCKS_REQUEST -> ramBlocks(phase).thenReturn(false);
                case REGISTER_REQUEST -> register(List.copyOf(message.registerRequests())).thenReturn(false);
                case COMPRESS -> {
                    var range = table.resolveCompress(message.compress());
                    // QEMU's ram_handle_zero: filling what is already zero would only fault pages in.
                    if (!ZeroRanges.isZero(range)) {
                        range.fill((byte) 0);
                    }
                    zeroPages += message.compress().length() / RamBlock.PAGE_SIZE;
                    recorder.compressed(MigrationRecorder.Side.DESTINATION, message.compress().length());
                    yield Mono.just(false);
                }
                case UNREGISTER_REQUEST -> {
                    int unregistered = 0;
                    for (RegisterRequest request : message.registerRequests()) {
                        long bytes = registrations.unregister(request);
                        if (bytes > 0) {
                            unregistered++;
                            recorder.pinnedBytes(MigrationRecorder.Side.DESTINATION, -bytes);
                        }
                    }
                    recorder.unregistered(MigrationRecorder.Side.DESTINATION, unregistered);
                    yield control.respond(ControlMessage.unregisterFinished(message.repeat())).thenReturn(false);
                }
                case REGISTER_RESULT -> throw new ProtocolException(ProtocolError.UNEXPECTED_TYPE,
                        "Invalid RESULT message at dest");
                default -> throw new ProtocolException(ProtocolError.UNEXPECTED_TYPE,
                        "Unknown control message " + message.type().displayName());
            };
        } catch (RuntimeException e) {
            return Mono.error(e);
        } finally {
            message.release();
        }
    }

    /**
     * Pages the source sent as COMPRESS so far.
     *
     * @return the count
     */
    public long zeroPages() {
        return zeroPages;
    }

    private Mono<Void> ramBlocks(RamPhase phase) {
        if (phase != RamPhase.SETUP) {
            return Mono.error(new ProtocolException(ProtocolError.UNEXPECTED_TYPE,
                    "RAM BLOCKS REQUEST outside the setup phase"));
        }
        Mono<Void> pin = !pinAll ? Mono.empty() : Mono.<Void>fromRunnable(() -> io(() ->
                registrations.registerAllBlocks((bytes, nanos) ->
                        recorder.pinAllRegistration(MigrationRecorder.Side.DESTINATION, bytes, nanos))))
                .subscribeOn(worker);
        return pin.then(Mono.defer(() -> control.respond(
                ControlMessage.ramBlocksResult(table.remoteBlocks(registrations::blockRkey)))));
    }

    /** Registers a request's chunks here (see the class comment for why not on the worker) and answers. */
    private Mono<Void> register(List<RegisterRequest> requests) {
        long started = System.nanoTime();
        return Mono.fromCallable(() -> {
                    List<RegisterResult> results = new ArrayList<>(requests.size());
                    for (RegisterRequest request : requests) {
                        results.add(registrations.register(request));
                    }
                    return results;
                })
                .flatMap(results -> control.respond(ControlMessage.registerResult(results)))
                .doOnSuccess(v -> recorder.registration(MigrationRecorder.Side.DESTINATION, requests.size(),
                        System.nanoTime() - started));
    }

    @FunctionalInterface
    private interface IoStep {
        void run() throws IOException;
    }

    private static void io(IoStep step) {
        try {
            step.run();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
