/**
 * The {@code "verbs"} provider of the verbs SPI: rdma-core's {@code libibverbs} and {@code librdmacm} called through
 * the Java FFM API ({@code java.lang.foreign}), with no JNI library.
 *
 * <p>Entry point: {@link io.livemig.transport.rdma.verbs.rdmacore.RdmaCoreVerbsProvider}, registered with
 * {@link java.util.ServiceLoader}. Struct layouts are declared once ({@code VerbsStructs}, {@code CmStructs}) and
 * checked against the installed headers by a test; the static inline data-path verbs are called through the
 * function pointers of {@code struct ibv_context_ops}.
 */
package io.livemig.transport.rdma.verbs.rdmacore;
