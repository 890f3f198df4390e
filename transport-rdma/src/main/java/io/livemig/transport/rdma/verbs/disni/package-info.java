/**
 * The {@code disni} verbs provider: the verbs SPI on IBM's DiSNI 2.1 ({@code com.ibm.disni:disni}) and its native
 * library libdisni; see {@link io.livemig.transport.rdma.verbs.disni.DisniVerbsProvider} and
 * docs/disni-provider.md.
 */
package io.livemig.transport.rdma.verbs.disni;
