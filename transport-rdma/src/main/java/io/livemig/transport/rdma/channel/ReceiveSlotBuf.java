package io.livemig.transport.rdma.channel;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledDirectByteBuf;
import java.nio.ByteBuffer;

/**
 * An inbound {@code ByteBuf} over the receive slot a SEND landed in, without a copy. Releasing it hands the slot
 * back to its channel, which posts it again: receive credits follow consumption.
 */
final class ReceiveSlotBuf extends UnpooledDirectByteBuf {

    /** Called once, with the slot index, when the buffer's reference count reaches zero. */
    interface Owner {
        void slotReleased(int slot);
    }

    private final Owner owner;
    private final int slot;

    ReceiveSlotBuf(ByteBufAllocator alloc, ByteBuffer slotBytes, Owner owner, int slot) {
        // The protected constructor wraps the buffer without taking ownership of its memory (it never frees it).
        super(alloc, slotBytes, slotBytes.remaining());
        this.owner = owner;
        this.slot = slot;
    }

    @Override
    protected void deallocate() {
        super.deallocate();
        owner.slotReleased(slot);
    }

    @Override
    protected void freeDirect(ByteBuffer buffer) {
        // The slot memory belongs to the receive ring.
    }
}
