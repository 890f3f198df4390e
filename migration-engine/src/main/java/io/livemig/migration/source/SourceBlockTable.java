package io.livemig.migration.source;

import io.livemig.migration.protocol.Chunks;
import io.livemig.migration.protocol.ProtocolError;
import io.livemig.migration.protocol.ProtocolException;
import io.livemig.migration.protocol.RemoteBlock;
import io.livemig.migration.ram.RamBlock;
import io.livemig.migration.ram.RamBlocks;
import java.util.List;

/**
 * The source's view of the destination's blocks after RAM BLOCKS RESULT (spec section 4.2): checked
 * as QEMU checks it (same count, same length per index, QEMU's texts), then used to translate addresses
 * into the destination's RAM address space and to find RDMA WRITE targets.
 */
public final class SourceBlockTable {

    private final RamBlocks local;
    private final List<RemoteBlock> remote;

    private SourceBlockTable(RamBlocks local, List<RemoteBlock> remote) {
        this.local = local;
        this.remote = List.copyOf(remote);
    }

    /**
     * Checks the destination's table against the local blocks.
     *
     * @param local the source's blocks, in the order of the stream's block list
     * @param remote the RAM BLOCKS RESULT payload
     * @return the table
     * @throws ProtocolException ({@link ProtocolError#INVALID_FIELD}) on a count or length mismatch
     */
    public static SourceBlockTable check(RamBlocks local, List<RemoteBlock> remote) {
        if (remote.size() != local.size()) {
            throw new ProtocolException(ProtocolError.INVALID_FIELD, "ram blocks mismatch (Number of blocks "
                    + remote.size() + " vs " + local.size() + "); your source and destination RAM layouts are"
                    + " probably not identical");
        }
        for (int i = 0; i < remote.size(); i++) {
            RamBlock block = local.get(i);
            if (remote.get(i).length() != block.usedLength()) {
                throw new ProtocolException(ProtocolError.INVALID_FIELD, "Block " + block.name() + "/" + i
                        + " has a different length " + block.usedLength() + " vs "
                        + Long.toUnsignedString(remote.get(i).length()));
            }
        }
        return new SourceBlockTable(local, remote);
    }

    /**
     * The destination's entry for a block.
     *
     * @param index block index
     * @return the remote block
     */
    public RemoteBlock remote(int index) {
        return remote.get(index);
    }

    /**
     * The wire address (destination RAM address space) of a byte of a block.
     *
     * @param index block index
     * @param offsetInBlock byte offset inside the block
     * @return the address for REGISTER REQUEST and COMPRESS
     */
    public long wireAddress(int index, long offsetInBlock) {
        RamBlock block = local.get(index);
        return Chunks.toWireAddress(remote.get(index).offset(), block.offset() + offsetInBlock, block.offset());
    }

    /**
     * The RDMA WRITE target for a byte of a block: the destination's block address plus the offset.
     *
     * @param index block index
     * @param offsetInBlock byte offset inside the block
     * @return the remote virtual address
     */
    public long targetAddress(int index, long offsetInBlock) {
        return remote.get(index).remoteHostAddr() + offsetInBlock;
    }
}
