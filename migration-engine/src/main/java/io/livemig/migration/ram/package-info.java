/**
 * RAM blocks and dirty tracking: the named, page-aligned native memory a migration moves, placed in a
 * RAM address space, and the per-page dirty bitmaps that pre-copy rounds harvest.
 */
package io.livemig.migration.ram;
