/**
 * A Netty 4.2 transport over the verbs SPI: {@link io.livemig.transport.rdma.channel.RdmaIoHandler} is the event
 * loop's I/O engine (hybrid polling of completion queues, then a blocking epoll on completion-channel, rdma_cm and
 * wakeup descriptors), {@link io.livemig.transport.rdma.channel.RdmaChannel} is a connected reliable-connected queue
 * pair and {@link io.livemig.transport.rdma.channel.RdmaServerChannel} a listening rdma_cm identifier.
 *
 * <pre>{@code
 * EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, RdmaIoHandler.newFactory());
 * Channel channel = new Bootstrap().group(group).channel(RdmaChannel.class)
 *         .option(RdmaChannelOption.PROVIDER, RdmaDeviceFactory.named("soft"))
 *         .handler(myHandler)
 *         .connect(serverAddress).sync().channel();
 * }</pre>
 *
 * <p>Outbound {@link io.netty.buffer.ByteBuf}s become SENDs, {@link io.livemig.transport.rdma.channel.RdmaWrite}
 * and {@link io.livemig.transport.rdma.channel.RdmaRead} one-sided operations; inbound SENDs arrive as
 * {@link io.netty.buffer.ByteBuf}s over the receive slot they landed in.
 */
package io.livemig.transport.rdma.channel;
