/**
 * The migration source: what it writes each round (chunk-bounded RDMA WRITEs, COMPRESS for untouched
 * zero ranges) and the destination's keys it caches.
 */
package io.livemig.migration.source;
