package io.livemig.migration.destination;

import io.livemig.migration.control.Deadlines;
import io.livemig.migration.control.DestinationControl;
import io.livemig.migration.observe.MigrationRecorder;
import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.ControlHeader;
import io.livemig.migration.protocol.ControlMessage;
import io.livemig.migration.protocol.ControlType;
import io.livemig.migration.ram.BlockAllocator;
import io.livemig.migration.ram.RamBlock;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.status.MigrationStatus;
import io.livemig.migration.stream.DeviceState;
import io.livemig.migration.stream.MigrationStreamDecoder;
import io.livemig.migration.stream.RamPhase;
import io.livemig.migration.stream.StreamEvent;
import io.livemig.migration.verify.ChunkChecksums;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Receives one migration on an established connection (spec section 9) as one Reactor pipeline: the
 * source's messages are the control channel's Flux whose demand is READY, handled one at a time
 * ({@code concatMap} without prefetch: the next READY goes only once the previous message was handled
 * and any response sent). In stream mode each QEMU FILE payload feeds the push decoder of the migration
 * stream; its events prepare the RAM blocks (the application's, or allocated as announced up to a memory
 * limit), collect the non-live state, and at each HOOK switch to registration mode, where the messages go
 * to the {@link RegistrationLoop} until REGISTER FINISHED. The end of stream completes the pipeline.
 * On any failure it sends ERROR (unless the source's ERROR caused it), releases every registration,
 * frees blocks it allocated, and fails. Nothing blocks a thread: allocation, registration and
 * verification run on {@code boundedElastic}.
 */
public final class MigrationDestination {

    private final DestinationControl control;
    private final ChunkRegistrations.Registrar registrar;
    private final boolean pinAll;
    private final RamBlocks provided;
    private final long memoryLimit;
    private final long maxStateBytes;
    private final Duration timeout;
    private Scheduler timer = Schedulers.parallel();
    private MigrationRecorder recorder = MigrationRecorder.NOOP;
    private BlockAllocator allocator = BlockAllocator.ANONYMOUS;
    private boolean preallocate;
    private Mono<? extends Throwable> abort = Mono.never();
    private String expectedMachine;

    /**
     * Creates the destination of one migration.
     *
     * @param control the control endpoint of the accepted connection
     * @param registrar registers memory with the connection's protection domain
     * @param pinAll whether pin-all was negotiated
     * @param provided the application's RAM layout, or null to allocate what the source announces
     * @param memoryLimit most bytes to allocate when {@code provided} is null
     * @param maxStateBytes largest non-live section accepted
     * @param timeout how long to wait for each message of the source
     */
    public MigrationDestination(DestinationControl control, ChunkRegistrations.Registrar registrar, boolean pinAll,
            RamBlocks provided, long memoryLimit, long maxStateBytes, Duration timeout) {
        this.control = control;
        this.registrar = registrar;
        this.pinAll = pinAll;
        this.provided = provided;
        this.memoryLimit = memoryLimit;
        this.maxStateBytes = maxStateBytes;
        this.timeout = timeout;
    }

    /**
     * Sets where metrics go (before {@link #run(Consumer)}).
     *
     * @param recorder the recorder
     * @return this
     */
    public MigrationDestination recorder(MigrationRecorder recorder) {
        this.recorder = java.util.Objects.requireNonNull(recorder);
        return this;
    }

    /**
     * Sets the clock of the per-message deadline (before {@link #run(Consumer)}; a virtual-time scheduler in tests).
     *
     * @param timer the scheduler
     * @return this
     */
    public MigrationDestination timer(Scheduler timer) {
        this.timer = Objects.requireNonNull(timer, "timer");
        return this;
    }

    /**
     * Sets how announced blocks are made when the application gave no layout (before {@link #run(Consumer)}).
     *
     * @param allocator the allocator
     * @return this
     */
    public MigrationDestination blockAllocator(BlockAllocator allocator) {
        this.allocator = Objects.requireNonNull(allocator, "allocator");
        return this;
    }

    /**
     * Whether blocks this destination allocates are committed before RAM BLOCKS RESULT (QEMU's
     * {@code -mem-prealloc}; counted in setup time) rather than on first touch (before {@link #run(Consumer)}).
     *
     * @param preallocate true to populate allocated blocks
     * @return this
     */
    public MigrationDestination preallocate(boolean preallocate) {
        this.preallocate = preallocate;
        return this;
    }

    /**
     * Sets the machine name the source's configuration section must carry (before {@link #run(Consumer)}),
     * as a QEMU destination checks its own machine type: another name fails the migration with QEMU's
     * wording, "Machine type received is 'X' and local is 'Y'". By default any machine is accepted.
     *
     * @param machine the expected name, or null for any
     * @return this
     */
    public MigrationDestination expectedMachine(String machine) {
        this.expectedMachine = machine;
        return this;
    }

    /**
     * Sets what stops the migration before its end (before {@link #run(Consumer)}): when {@code abort} emits a
     * reason, the run stops reading the source, fails as on any error (ERROR to the source, registrations
     * released, allocated blocks freed) and ends with that reason.
     *
     * @param abort emits the reason to stop; never by default
     * @return this
     */
    public MigrationDestination abortWhen(Mono<? extends Throwable> abort) {
        this.abort = Objects.requireNonNull(abort, "abort");
        return this;
    }

    /**
     * The migration, to its end, reporting its status: {@code active} when the first round begins. When
     * the source sent {@code x-verify} checksums, the memory is checked against them after the final round,
     * and a difference fails the migration naming the block and offset. Subscribe once.
     *
     * @param status told of status changes
     * @return the RAM and the state; fails with an {@link IOException} or a protocol error
     */
    public Mono<IncomingMigration> run(Consumer<MigrationStatus> status) {
        return Mono.defer(() -> {
            Load load = new Load(new RegistrationLoop(control, pinAll, Schedulers.boundedElastic()).recorder(recorder),
                    status);
            MigrationRecorder.Side side = MigrationRecorder.Side.DESTINATION;
            control.onBytesSent((type, bytes) -> recorder.controlMessage(side, type, true, bytes));
            control.onBytesReceived((type, bytes) -> {
                recorder.controlMessage(side, type, false, bytes);
                if (type == ControlType.QEMU_FILE) {
                    recorder.qemuFileBytes(side, bytes - ControlHeader.SIZE);
                }
            });
            // The deadline runs from each READY to the source's answer, not while this side works.
            Mono<IncomingMigration> received = control.incoming(timeout, timer)
                    .doOnDiscard(ControlMessage.class, ControlMessage::release)
                    .concatMap(load::handle, 0)
                    .takeUntil(finished -> finished)
                    .then(Mono.defer(load::finish));
            // Raced as a whole Mono, not merged into the messages: a merge would prefetch, and demand is READY.
            return Mono.firstWithSignal(received, abort.flatMap(Mono::<IncomingMigration>error))
                    .doFinally(signal -> load.close())
                    .onErrorResume(error -> {
                        Throwable cause = error instanceof UncheckedIOException unchecked
                                ? unchecked.getCause() : error;
                        return Deadlines.within(control.abort(cause), timeout, timer, "sending ERROR")
                                .onErrorResume(ignored -> Mono.empty())
                                .then(Mono.fromRunnable(load::discard))
                                .then(Mono.error(cause));
                    });
        });
    }

    /** What one load builds up as the stream arrives. */
    private final class Load {
        private final RegistrationLoop loop;
        private final Map<String, byte[]> state = new LinkedHashMap<>();
        private final Consumer<MigrationStatus> status;
        private final MigrationStreamDecoder decoder = new MigrationStreamDecoder(maxStateBytes, expectedMachine);
        private String machine;
        private DeviceState deviceState;
        private RamBlocks blocks;
        private ChunkRegistrations registrations;
        private boolean active;
        /** The HOOK whose registration loop runs, or null in stream mode. */
        private RamPhase hook;
        private boolean endOfStream;

        Load(RegistrationLoop loop, Consumer<MigrationStatus> status) {
            this.loop = loop;
            this.status = status;
        }

        /** Handles one message of the source; true once the stream ended. */
        Mono<Boolean> handle(ControlMessage message) {
            if (hook != null) {
                RamPhase phase = hook;
                return loop.handle(message, phase).flatMap(finished -> {
                    if (!finished) {
                        return Mono.just(false);
                    }
                    hook = null;
                    // Stream bytes that followed the HOOK in the same payload come next.
                    return events();
                });
            }
            try {
                message.requireType(ControlType.QEMU_FILE);
                decoder.feed(message.data().retain());
            } catch (RuntimeException e) {
                return Mono.error(e);
            } finally {
                message.release();
            }
            return events();
        }

        /** Applies the decoded events until the decoder needs more bytes, a HOOK, or the end. */
        private Mono<Boolean> events() {
            return Mono.defer(() -> {
                StreamEvent event = decoder.next();
                if (event == null) {
                    return Mono.just(false);
                }
                return switch (event) {
                    case StreamEvent.RamBlockList list -> Mono.fromRunnable(() -> ramBlockList(list.blocks()))
                            // Allocation and preallocation touch gigabytes: never on the event loop.
                            .subscribeOn(Schedulers.boundedElastic())
                            .then(events());
                    case StreamEvent.RamHook ramHook -> {
                        if (!active && ramHook.phase() != RamPhase.SETUP) {
                            active = true;
                            status.accept(MigrationStatus.ACTIVE);
                        }
                        if (blocks == null) {
                            yield Mono.error(new IllegalStateException("the block table is not prepared"));
                        }
                        hook = ramHook.phase();
                        yield Mono.just(false);
                    }
                    case StreamEvent.FullSection section -> {
                        state.put(section.idstr(), section.state());
                        yield events();
                    }
                    case StreamEvent.Configuration configuration -> {
                        machine = configuration.machine();
                        yield events();
                    }
                    case StreamEvent.DeviceSections devices -> {
                        deviceState = devices.state();
                        yield events();
                    }
                    case StreamEvent.RamPage page -> {
                        block(page.block(), page.offset()).write(page.offset(), MemorySegment.ofArray(page.data()));
                        yield events();
                    }
                    case StreamEvent.RamZeroPage page -> {
                        block(page.block(), page.offset()).fill(page.offset(), RamBlock.PAGE_SIZE, page.fill());
                        yield events();
                    }
                    case StreamEvent.End end -> {
                        endOfStream = true;
                        yield Mono.just(true);
                    }
                };
            });
        }

        /**
         * The block a page record (exec/TCP-mode stream) goes to. The decoder checked the page against the
         * announced block list; this checks it against the block actually there, so nothing is written outside.
         */
        private RamBlock block(String name, long offset) {
            RamBlock block = blocks == null ? null : blocks.byName(name).orElse(null);
            if (block == null || offset < 0 || offset > block.usedLength() - RamBlock.PAGE_SIZE) {
                throw new IllegalStateException("page at offset " + offset + " of RAM block '" + name
                        + "' is outside the destination's blocks");
            }
            return block;
        }

        private void ramBlockList(List<BlockListEntry> announced) {
            blocks = provided != null ? provided : RamBlocks.allocateAnnounced(announced, memoryLimit, allocator);
            if (provided == null && preallocate) {
                blocks.forEach(RamBlock::populate);
            }
            DestinationBlockTable table = DestinationBlockTable.match(blocks, announced);
            registrations = new ChunkRegistrations(table, (memory, access) -> {
                MemoryRegion region = registrar.register(memory, access);
                recorder.pinnedBytes(MigrationRecorder.Side.DESTINATION, memory.byteSize());
                return region;
            });
            loop.prepare(table, registrations);
        }

        /** After the end of stream: release registrations, check x-verify checksums, hand over. */
        Mono<IncomingMigration> finish() {
            if (!endOfStream) {
                return Mono.error(new IOException("the control channel completed before the end of the stream"));
            }
            return Mono.fromCallable(() -> {
                releaseRegistrations();
                boolean verified = false;
                byte[] sums = state.remove(ChunkChecksums.SECTION);
                if (sums != null) {
                    Optional<ChunkChecksums.Mismatch> mismatch = ChunkChecksums.decode(sums).check(blocks);
                    if (mismatch.isPresent()) {
                        throw new IOException(mismatch.get().toString());
                    }
                    verified = true;
                }
                return new IncomingMigration(blocks, state, loop.zeroPages(), verified, machine, deviceState);
            }).subscribeOn(Schedulers.boundedElastic());
        }

        /** After a failure: release registrations and free what was allocated here. */
        void discard() {
            releaseRegistrations();
            if (provided == null && blocks != null) {
                blocks.close();
            }
        }

        void close() {
            decoder.close();
            control.onBytesSent(null);
            control.onBytesReceived(null);
        }

        private void releaseRegistrations() {
            if (registrations != null) {
                recorder.pinnedBytes(MigrationRecorder.Side.DESTINATION, -registrations.pinnedBytes());
                recorder.unregistered(MigrationRecorder.Side.DESTINATION, registrations.chunkRegistrations());
                registrations.close();
                registrations = null;
            }
        }
    }
}
