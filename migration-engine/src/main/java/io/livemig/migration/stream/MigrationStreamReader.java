package io.livemig.migration.stream;

import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.ProtocolError;
import io.livemig.migration.protocol.ProtocolException;
import io.netty.buffer.Unpooled;
import java.io.DataInput;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * Reads the migration byte stream, as a destination does in QEMU's {@code qemu_loadvm_state} and
 * {@code ram_load}: what {@link MigrationStreamDecoder} reads (header, configuration, the RAM section with
 * HOOKs or page records, livemig's sections or a VM's device state, EOF, VMDESCRIPTION), handed to a
 * listener. Every violation is a {@link ProtocolException}; a stream that ends early is
 * {@link ProtocolError#TRUNCATED}.
 *
 * <p>The input pulls: on the destination each read that runs out of buffered bytes asks the source
 * for more with a READY (spec section 8.2), so this runs off the event loop. The parsing is
 * {@link MigrationStreamDecoder}'s: this reads exactly the bytes the decoder still needs for its next
 * field and hands each event to the listener before reading on.
 */
public final class MigrationStreamReader {

    /** What the stream delivers, in order. */
    public interface Listener {
        /**
         * The configuration section's machine name, first. Ignored unless overridden.
         *
         * @param machine the name
         * @throws IOException to abort the migration
         */
        default void configuration(String machine) throws IOException {
        }

        /**
         * The setup part's block list, before its HOOK: the destination prepares (or allocates) its
         * blocks and notes the source's order.
         *
         * @param blocks names and used lengths in source order
         * @throws IOException to abort the migration
         */
        void ramBlockList(List<BlockListEntry> blocks) throws IOException;

        /**
         * A HOOK: run the RDMA registration loop until REGISTER FINISHED, then return.
         *
         * @param phase which part of the RAM section the hook is in
         * @throws IOException to abort the migration
         */
        void ramHook(RamPhase phase) throws IOException;

        /**
         * A whole non-live section.
         *
         * @param idstr section name
         * @param instanceId instance number
         * @param versionId section version
         * @param state the section's bytes
         * @throws IOException to abort the migration
         */
        void fullSection(String idstr, int instanceId, int versionId, byte[] state) throws IOException;

        /**
         * A page record (exec/TCP mode), inside its block. A listener that does not override it refuses
         * streams with pages: an RDMA destination has no use for them.
         *
         * @param page the block, offset and bytes
         * @throws IOException to abort the migration
         */
        default void ramPage(StreamEvent.RamPage page) throws IOException {
            throw new IOException("page records in the stream, but this destination takes pages over RDMA only");
        }

        /**
         * A ZERO record (exec/TCP mode), inside its block; refused unless overridden, as {@link #ramPage}.
         *
         * @param page the block, offset and fill byte
         * @throws IOException to abort the migration
         */
        default void ramZeroPage(StreamEvent.RamZeroPage page) throws IOException {
            throw new IOException("page records in the stream, but this destination takes pages over RDMA only");
        }

        /**
         * A VM's device state after the final RAM part, kept whole; the stream ends after it. Refused unless
         * overridden.
         *
         * @param state the machine name and the tail
         * @throws IOException to abort the migration
         */
        default void deviceState(DeviceState state) throws IOException {
            throw new IOException("device state from machine '" + state.machine()
                    + "' in the stream, but this destination keeps none");
        }
    }

    /** Largest piece of a full section's state read at once, so that a big section is not held twice. */
    private static final int MAX_READ = 64 * 1024;

    private final DataInput in;
    private final long maxStateBytes;
    private final String expectedMachine;

    /**
     * Creates a reader that accepts any machine.
     *
     * @param in the stream, fed by QEMU FILE messages
     * @param maxStateBytes largest livemig section, VMDESCRIPTION or device-state tail accepted (held in memory)
     */
    public MigrationStreamReader(DataInput in, long maxStateBytes) {
        this(in, maxStateBytes, null);
    }

    /**
     * Creates a reader.
     *
     * @param in the stream, fed by QEMU FILE messages
     * @param maxStateBytes largest livemig section, VMDESCRIPTION or device-state tail accepted (held in memory)
     * @param expectedMachine the machine name the configuration section must carry, or null for any
     */
    public MigrationStreamReader(DataInput in, long maxStateBytes, String expectedMachine) {
        this.in = in;
        this.maxStateBytes = maxStateBytes;
        this.expectedMachine = expectedMachine;
    }

    /**
     * Reads the whole stream, calling the listener as its parts arrive, and returns at the end of stream.
     *
     * @param listener receives the parts
     * @throws IOException from the input or the listener
     * @throws ProtocolException for a malformed stream
     */
    public void readAll(Listener listener) throws IOException {
        MigrationStreamDecoder decoder = new MigrationStreamDecoder(maxStateBytes, expectedMachine);
        try {
            while (true) {
                for (StreamEvent event; (event = decoder.next()) != null; ) {
                    if (deliver(event, listener)) {
                        return;
                    }
                }
                // Exactly the rest of the awaited field: never read past a HOOK, whose registration loop
                // takes over the receive slot (spec section 8.3).
                int wanted = (int) Math.min(decoder.bytesNeeded(), MAX_READ);
                if (decoder.readingDeviceTail() && in instanceof InputStream stream) {
                    // Only its content tells where a device tail ends: take what the input already holds.
                    wanted = Math.max(wanted, Math.min(stream.available(), MAX_READ));
                }
                byte[] bytes = new byte[wanted];
                in.readFully(bytes);
                decoder.feed(Unpooled.wrappedBuffer(bytes));
            }
        } catch (EOFException e) {
            // The input (or a listener) ran out. Reads never go past the awaited field, so nothing decodable is
            // buffered: endOfInput() throws, unless the stream may end here (right after EOF, no VMDESCRIPTION).
            decoder.endOfInput();
            for (StreamEvent event; (event = decoder.next()) != null; ) {
                if (deliver(event, listener)) {
                    return;
                }
            }
            throw MigrationStreamDecoder.truncated();
        } finally {
            decoder.close();
        }
    }

    /** Hands an event to the listener; true at the end of stream. */
    private static boolean deliver(StreamEvent event, Listener listener) throws IOException {
        switch (event) {
            case StreamEvent.RamBlockList list -> listener.ramBlockList(list.blocks());
            case StreamEvent.RamHook hook -> listener.ramHook(hook.phase());
            case StreamEvent.FullSection section -> listener.fullSection(section.idstr(), section.instanceId(),
                    section.versionId(), section.state());
            case StreamEvent.Configuration configuration -> listener.configuration(configuration.machine());
            case StreamEvent.RamPage page -> listener.ramPage(page);
            case StreamEvent.RamZeroPage page -> listener.ramZeroPage(page);
            case StreamEvent.DeviceSections devices -> listener.deviceState(devices.state());
            case StreamEvent.End end -> {
                return true;
            }
        }
        return false;
    }
}
