package io.livemig.migration.destination;

import io.livemig.migration.control.DestinationControl;
import io.livemig.migration.control.QemuFileInput;
import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.ram.BlockAllocator;
import io.livemig.migration.ram.RamBlock;
import io.livemig.migration.ram.RamBlocks;
import io.livemig.migration.stream.MigrationStreamReader;
import io.livemig.migration.stream.RamPhase;
import java.io.DataInputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import io.livemig.migration.observe.MigrationRecorder;
import io.livemig.migration.protocol.ControlHeader;
import io.livemig.migration.protocol.ControlType;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import java.util.Optional;
import java.util.function.Consumer;
import io.livemig.migration.status.MigrationStatus;
import io.livemig.migration.verify.ChunkChecksums;

/**
 * Receives one migration on an established connection (spec section 9): reads the stream, prepares the
 * RAM blocks when the block list arrives (the application's, or allocated as announced up to a memory
 * limit), runs the registration loop at each HOOK, collects the non-live state, and completes at the end
 * of stream. On any failure it sends ERROR (unless the source's ERROR caused it), releases every
 * registration, frees blocks it allocated, and rethrows.
 *
 * <p>Blocking: run it on a dedicated thread, never on an event loop.
 */
public final class MigrationDestination {

    private final DestinationControl control;
    private final ChunkRegistrations.Registrar registrar;
    private final boolean pinAll;
    private final RamBlocks provided;
    private final long memoryLimit;
    private final long maxStateBytes;
    private final Duration timeout;
    private MigrationRecorder recorder = MigrationRecorder.NOOP;
    private BlockAllocator allocator = BlockAllocator.ANONYMOUS;
    private boolean preallocate;

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
     * Sets where metrics go (before {@link #run()}).
     *
     * @param recorder the recorder
     * @return this
     */
    public MigrationDestination recorder(MigrationRecorder recorder) {
        this.recorder = java.util.Objects.requireNonNull(recorder);
        return this;
    }

    /**
     * Sets how announced blocks are made when the application gave no layout (before {@link #run()}).
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
     * {@code -mem-prealloc}; counted in setup time) rather than on first touch (before {@link #run()}).
     *
     * @param preallocate true to populate allocated blocks
     * @return this
     */
    public MigrationDestination preallocate(boolean preallocate) {
        this.preallocate = preallocate;
        return this;
    }

    /**
     * Runs the migration to its end.
     *
     * @return the RAM and the state
     * @throws IOException if the connection fails or the stream is refused
     */
    public IncomingMigration run() throws IOException {
        return run(status -> { });
    }

    /**
     * Runs the migration to its end, reporting its status: {@code active} when the first round begins.
     * When the source sent {@code x-verify} checksums, the memory is checked against them after the
     * final round, and a difference fails the migration naming the block and offset.
     *
     * @param status told of status changes
     * @return the RAM and the state
     * @throws IOException if the connection fails, the stream is refused or verification fails
     */
    public IncomingMigration run(Consumer<MigrationStatus> status) throws IOException {
        Load load = new Load(new RegistrationLoop(control, pinAll, timeout).recorder(recorder), status);
        MigrationRecorder.Side side = MigrationRecorder.Side.DESTINATION;
        control.onBytesSent((type, bytes) -> recorder.controlMessage(side, type, true, bytes));
        control.onBytesReceived((type, bytes) -> {
            recorder.controlMessage(side, type, false, bytes);
            if (type == ControlType.QEMU_FILE) {
                recorder.qemuFileBytes(side, bytes - ControlHeader.SIZE);
            }
        });
        try (QemuFileInput input = new QemuFileInput(control, timeout)) {
            new MigrationStreamReader(new DataInputStream(input), maxStateBytes).readAll(load);
            load.releaseRegistrations();
            boolean verified = false;
            byte[] sums = load.state.remove(ChunkChecksums.SECTION);
            if (sums != null) {
                Optional<ChunkChecksums.Mismatch> mismatch = ChunkChecksums.decode(sums).check(load.blocks);
                if (mismatch.isPresent()) {
                    throw new IOException(mismatch.get().toString());
                }
                verified = true;
            }
            return new IncomingMigration(load.blocks, load.state, load.loop.zeroPages(), verified);
        } catch (IOException | RuntimeException e) {
            control.abort(e).block(timeout);
            load.releaseRegistrations();
            if (provided == null && load.blocks != null) {
                load.blocks.close();
            }
            throw e;
        }
    }

    /** What one load builds up as the stream arrives; released by {@link #run()} whatever the outcome. */
    private final class Load implements MigrationStreamReader.Listener {
        private final RegistrationLoop loop;
        private final Map<String, byte[]> state = new LinkedHashMap<>();
        private RamBlocks blocks;
        private final Consumer<MigrationStatus> status;
        private ChunkRegistrations registrations;
        private boolean active;

        Load(RegistrationLoop loop, Consumer<MigrationStatus> status) {
            this.loop = loop;
            this.status = status;
        }

        @Override
        public void ramBlockList(List<BlockListEntry> announced) {
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

        @Override
        public void ramHook(RamPhase phase) throws IOException {
            if (!active && phase != RamPhase.SETUP) {
                active = true;
                status.accept(MigrationStatus.ACTIVE);
            }
            loop.run(phase);
        }

        @Override
        public void fullSection(String idstr, int instanceId, int versionId, byte[] bytes) {
            state.put(idstr, bytes);
        }

        void releaseRegistrations() {
            if (registrations != null) {
                recorder.pinnedBytes(MigrationRecorder.Side.DESTINATION, -registrations.pinnedBytes());
                recorder.unregistered(MigrationRecorder.Side.DESTINATION, registrations.chunkRegistrations());
                registrations.close();
            }
        }
    }
}
