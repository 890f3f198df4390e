package io.livemig.migration.destination;

import io.livemig.migration.observe.MigrationRecorder;

import io.livemig.migration.control.Await;
import io.livemig.migration.control.DestinationControl;
import io.livemig.migration.protocol.ControlMessage;
import io.livemig.migration.protocol.ControlType;
import io.livemig.migration.protocol.ProtocolError;
import io.livemig.migration.protocol.ProtocolException;
import io.livemig.migration.protocol.RegisterRequest;
import io.livemig.migration.protocol.RegisterResult;
import io.livemig.migration.stream.RamPhase;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The destination's registration loop, entered at each HOOK (QEMU's {@code qemu_rdma_registration_handle},
 * spec sections 4 to 6 and 9): grant a READY, receive one message, act on it, until REGISTER FINISHED.
 * Every request is checked against the block table before memory is touched; anything out of place is
 * a {@link ProtocolException} (the caller answers it with ERROR).
 *
 * <p>Blocking; runs on the destination's load thread.
 */
public final class RegistrationLoop {

    private final DestinationControl control;
    private final Duration timeout;
    private final boolean pinAll;
    private DestinationBlockTable table;
    private ChunkRegistrations registrations;
    private long zeroPages;
    private MigrationRecorder recorder = MigrationRecorder.NOOP;

    /**
     * Creates the loop.
     *
     * @param control the destination's control endpoint
     * @param pinAll whether pin-all was negotiated
     * @param timeout how long to wait for each message of the source
     */
    public RegistrationLoop(DestinationControl control, boolean pinAll, Duration timeout) {
        this.control = control;
        this.pinAll = pinAll;
        this.timeout = timeout;
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
     * Runs the loop until REGISTER FINISHED.
     *
     * @param phase which RAM part's HOOK this is
     * @throws IOException if the control channel fails
     * @throws ProtocolException for a message the destination must refuse
     */
    public void run(RamPhase phase) throws IOException {
        if (table == null) {
            throw new IllegalStateException("the block table is not prepared");
        }
        while (true) {
            ControlMessage message = receive();
            try {
                switch (message.type()) {
                    case REGISTER_FINISHED -> {
                        return;
                    }
                    case RAM_BLOCKS_REQUEST -> ramBlocks(phase);
                    case REGISTER_REQUEST -> register(message.registerRequests());
                    case COMPRESS -> {
                        var range = table.resolveCompress(message.compress());
                        // QEMU's ram_handle_zero: filling what is already zero would only fault pages in.
                        if (!io.livemig.migration.source.ZeroRanges.isZero(range)) {
                            range.fill((byte) 0);
                        }
                        zeroPages += message.compress().length() / io.livemig.migration.ram.RamBlock.PAGE_SIZE;
                        recorder.compressed(MigrationRecorder.Side.DESTINATION, message.compress().length());
                    }
                    case UNREGISTER_REQUEST -> {
                        for (RegisterRequest request : message.registerRequests()) {
                            registrations.unregister(request);
                        }
                        block(control.respond(ControlMessage.unregisterFinished(message.repeat())));
                    }
                    case REGISTER_RESULT -> throw new ProtocolException(ProtocolError.UNEXPECTED_TYPE,
                            "Invalid RESULT message at dest");
                    default -> throw new ProtocolException(ProtocolError.UNEXPECTED_TYPE,
                            "Unknown control message " + message.type().displayName());
                }
            } finally {
                message.release();
            }
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

    private void ramBlocks(RamPhase phase) throws IOException {
        if (phase != RamPhase.SETUP) {
            throw new ProtocolException(ProtocolError.UNEXPECTED_TYPE, "RAM BLOCKS REQUEST outside the setup phase");
        }
        if (pinAll) {
            registrations.registerAllBlocks((bytes, nanos) ->
                    recorder.pinAllRegistration(MigrationRecorder.Side.DESTINATION, bytes, nanos));
        }
        block(control.respond(ControlMessage.ramBlocksResult(table.remoteBlocks(registrations::blockRkey))));
    }

    private void register(List<RegisterRequest> requests) throws IOException {
        long started = System.nanoTime();
        List<RegisterResult> results = new ArrayList<>(requests.size());
        for (RegisterRequest request : requests) {
            results.add(registrations.register(request));
        }
        block(control.respond(ControlMessage.registerResult(results)));
        recorder.registration(MigrationRecorder.Side.DESTINATION, requests.size(), System.nanoTime() - started);
    }

    private ControlMessage receive() throws IOException {
        ControlMessage message = block(control.receive(ControlType.NONE));
        if (message == null) {
            throw new IOException("the control channel completed without a message");
        }
        return message;
    }

    private <T> T block(reactor.core.publisher.Mono<T> mono) throws IOException {
        return Await.await(mono, timeout, "the registration loop's control exchange");
    }
}
