package io.livemig.transport.rdma.channel;

/**
 * An inbound message: the peer's {@link RdmaWrite} with immediate data has placed {@code byteLength} bytes in a
 * region of this side, and this is its immediate data. Not reference-counted.
 *
 * @param value the immediate data
 * @param byteLength the number of bytes the write placed
 */
public record RdmaImmediate(int value, int byteLength) {
}
