package io.livemig.migration.destination;

import io.livemig.migration.ram.RamBlocks;
import java.util.Map;

/**
 * A completed incoming migration: the RAM blocks, now holding the source's memory, and the non-live
 * state sections. The application owns both from here (close the blocks when done).
 *
 * @param blocks the RAM, in the source's order
 * @param state non-live sections by name
 * @param zeroPages pages the source sent as COMPRESS
 * @param verified true when the source sent {@code x-verify} checksums and every chunk matched them
 */
public record IncomingMigration(RamBlocks blocks, Map<String, byte[]> state, long zeroPages, boolean verified) {
}
