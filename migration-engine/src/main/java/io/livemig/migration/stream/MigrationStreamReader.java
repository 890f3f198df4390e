package io.livemig.migration.stream;

import io.livemig.migration.protocol.BlockListEntry;
import io.livemig.migration.protocol.ProtocolError;
import io.livemig.migration.protocol.ProtocolException;
import io.netty.buffer.Unpooled;
import java.io.DataInput;
import java.io.EOFException;
import java.io.IOException;
import java.util.List;

/**
 * Reads the migration byte stream that {@link MigrationStreamWriter} produces, as a destination does
 * in QEMU's {@code qemu_loadvm_state} and {@code ram_load}: the header, the RAM section in RDMA mode
 * (no page data: MEM_SIZE with the block list, HOOK, EOS), full sections of non-live state, footers and
 * the end of stream. Every violation is a {@link ProtocolException}; a stream that ends early is
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
    }

    /** Largest piece of a full section's state read at once, so that a big section is not held twice. */
    private static final int MAX_READ = 64 * 1024;

    private final DataInput in;
    private final long maxStateBytes;

    /**
     * Creates a reader.
     *
     * @param in the stream, fed by QEMU FILE messages
     * @param maxStateBytes largest non-live section accepted (the state is held in memory)
     */
    public MigrationStreamReader(DataInput in, long maxStateBytes) {
        this.in = in;
        this.maxStateBytes = maxStateBytes;
    }

    /**
     * Reads the whole stream, calling the listener as its parts arrive, and returns at the end of stream.
     *
     * @param listener receives the parts
     * @throws IOException from the input or the listener
     * @throws ProtocolException for a malformed stream
     */
    public void readAll(Listener listener) throws IOException {
        MigrationStreamDecoder decoder = new MigrationStreamDecoder(maxStateBytes);
        try {
            while (true) {
                for (StreamEvent event; (event = decoder.next()) != null; ) {
                    if (deliver(event, listener)) {
                        return;
                    }
                }
                // Exactly the rest of the awaited field: never read past a HOOK, whose registration loop
                // takes over the receive slot (spec section 8.3).
                byte[] bytes = new byte[(int) Math.min(decoder.bytesNeeded(), MAX_READ)];
                in.readFully(bytes);
                decoder.feed(Unpooled.wrappedBuffer(bytes));
            }
        } catch (EOFException e) {
            // The input (or a listener) ran out before the EOF marker. Reads never go past the awaited field,
            // so nothing decodable is buffered: endOfInput() throws TRUNCATED.
            decoder.endOfInput();
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
            case StreamEvent.End end -> {
                return true;
            }
        }
        return false;
    }
}
