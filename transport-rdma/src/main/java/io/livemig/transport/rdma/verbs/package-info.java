/**
 * The verbs SPI: a small, provider-neutral model of the InfiniBand verbs and rdma_cm APIs that livemig needs
 * (devices, protection domains, memory regions, completion queues and channels, reliable-connected queue pairs
 * and the connection manager).
 *
 * <p>Providers are found with {@link java.util.ServiceLoader} through {@link io.livemig.transport.rdma.verbs.Verbs};
 * no provider type appears in this package. Names follow {@code libibverbs} and {@code librdmacm}
 * ({@code ibv_wc_status}, {@code ibv_qp_state}, {@code rdma_cm_event_type}) so that a reader holding
 * {@code man ibv_post_send} or {@code man rdma_cm} finds each concept by its name.
 */
package io.livemig.transport.rdma.verbs;
