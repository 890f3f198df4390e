/**
 * The wire codec of QEMU's RDMA migration protocol: capabilities exchanged in RDMA CM private data,
 * the 16-byte control header and the twelve {@link io.livemig.migration.protocol.ControlType control
 * message types}, their payload records, the RAM-section stream tokens the RDMA path uses, QEMU's
 * chunk arithmetic and work-request ids, and {@code rdma:HOST:PORT} migration URIs.
 *
 * <p>Everything is big-endian; padding is written as zero and ignored on read. Decoders validate as
 * QEMU does and more strictly where QEMU trusts its peer, and throw only
 * {@link io.livemig.migration.protocol.ProtocolException}. The specification is
 * {@code shared/docs/qemu-rdma-protocol.md}; section numbers in the javadoc refer to it.
 */
package io.livemig.migration.protocol;
