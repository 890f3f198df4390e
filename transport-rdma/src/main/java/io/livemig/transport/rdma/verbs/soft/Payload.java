package io.livemig.transport.rdma.verbs.soft;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * The inbound payload of a frame, valid only during the handler call it is passed to. The responder places it
 * piece by piece into the destination memory ({@link #placeInto}); whatever it leaves is discarded by the fabric.
 */
interface Payload {

    /** The number of bytes not yet placed. */
    long remaining();

    /**
     * Moves the next {@code target.byteSize()} bytes into the target: the single copy of the data path.
     *
     * @param target destination memory, pinned by the caller
     * @throws IOException when the link fails mid-payload
     */
    void placeInto(MemorySegment target) throws IOException;

    /** A payload without bytes. */
    Payload EMPTY = new Payload() {
        @Override
        public long remaining() {
            return 0;
        }

        @Override
        public void placeInto(MemorySegment target) {
            if (target.byteSize() != 0) {
                throw new IllegalStateException("empty payload, " + target.byteSize() + " bytes requested");
            }
        }
    };
}
