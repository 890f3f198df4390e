package io.livemig.transport.rdma.channel;

import io.netty.channel.ChannelOption;

/**
 * The options of {@link RdmaChannel} and {@link RdmaServerChannel}, beside Netty's own (the connect timeout is
 * {@link ChannelOption#CONNECT_TIMEOUT_MILLIS}, the listen backlog {@link ChannelOption#SO_BACKLOG}, writability
 * {@link ChannelOption#WRITE_BUFFER_WATER_MARK}). A server passes the connection options to its children through
 * {@code ServerBootstrap.childOption}.
 *
 * @param <T> the option's value type
 */
public final class RdmaChannelOption<T> extends ChannelOption<T> {

    /** How a channel opens its device; default {@link RdmaDeviceFactory#firstAvailable()}. */
    public static final ChannelOption<RdmaDeviceFactory> PROVIDER = valueOf(RdmaChannelOption.class, "PROVIDER");
    /** Send queue depth ({@code max_send_wr}): SENDs, WRITEs and READs in flight; default 128. */
    public static final ChannelOption<Integer> SEND_QUEUE_DEPTH = valueOf(RdmaChannelOption.class,
            "SEND_QUEUE_DEPTH");
    /** Receive queue depth ({@code max_recv_wr}); at least the receive buffer count, default equal to it. */
    public static final ChannelOption<Integer> RECEIVE_QUEUE_DEPTH = valueOf(RdmaChannelOption.class,
            "RECEIVE_QUEUE_DEPTH");
    /**
     * Bytes per receive slot, which is also the largest SEND this side posts: a bigger {@code ByteBuf} goes out as
     * several SENDs. Both ends must use the same value; default 64 KiB.
     */
    public static final ChannelOption<Integer> RECEIVE_BUFFER_SIZE = valueOf(RdmaChannelOption.class,
            "RECEIVE_BUFFER_SIZE");
    /** Receive slots kept posted, the receive window; at least 4, default 64. */
    public static final ChannelOption<Integer> RECEIVE_BUFFER_COUNT = valueOf(RdmaChannelOption.class,
            "RECEIVE_BUFFER_COUNT");
    /**
     * Send slots: SENDs posted and not yet completed, each copied into a slot of {@link #RECEIVE_BUFFER_SIZE} bytes
     * (registered memory the channel owns). At least 1; 0 (default) gives one slot per send queue entry, and more
     * than the send queue depth is never used. A connection whose queue carries mostly RDMA WRITEs and few SENDs
     * (a migration's control channel) needs only a few: each slot is allocated when the channel registers.
     */
    public static final ChannelOption<Integer> SEND_BUFFER_COUNT = valueOf(RdmaChannelOption.class,
            "SEND_BUFFER_COUNT");
    /** SENDs up to this many bytes are posted inline ({@code max_inline_data}); default 64. */
    public static final ChannelOption<Integer> MAX_INLINE = valueOf(RdmaChannelOption.class, "MAX_INLINE");
    /** Completion queue entries; 0 (default) sizes it to both queue depths. */
    public static final ChannelOption<Integer> CQ_SIZE = valueOf(RdmaChannelOption.class, "CQ_SIZE");
    /** Transport retries before a send fails with {@code RETRY_EXC_ERR}, 0..7; default 7. */
    public static final ChannelOption<Integer> RETRY_COUNT = valueOf(RdmaChannelOption.class, "RETRY_COUNT");
    /** Receiver-not-ready retries, 0..7 where 7 means forever; default 7. */
    public static final ChannelOption<Integer> RNR_RETRY_COUNT = valueOf(RdmaChannelOption.class, "RNR_RETRY_COUNT");
    /** Private data of the connect request (client) ; default empty. */
    public static final ChannelOption<byte[]> CONNECT_PRIVATE_DATA = valueOf(RdmaChannelOption.class,
            "CONNECT_PRIVATE_DATA");
    /** The server's per-connection acceptor; default {@link RdmaAcceptor#ACCEPT_ALL}. */
    public static final ChannelOption<RdmaAcceptor> ACCEPTOR = valueOf(RdmaChannelOption.class, "ACCEPTOR");
    /**
     * Credit-based flow control (default {@code true}): a side SENDs only into receives the peer has posted, and
     * returns credits in the immediate data of its SENDs, so a slow reader slows the writer instead of causing
     * receiver-not-ready retries. {@code false} posts plain SENDs as QEMU does, and relies on the peer's own
     * protocol and on RNR retries; both ends must agree.
     */
    public static final ChannelOption<Boolean> CREDIT_FLOW_CONTROL = valueOf(RdmaChannelOption.class,
            "CREDIT_FLOW_CONTROL");
    /**
     * A connection for one-sided operations only (default {@code false}): RDMA WRITEs and READs, no SENDs of any
     * size. {@code true} gives it the smallest rings whatever the other options say
     * ({@link RdmaChannel#ONE_SIDED_RING_SLOT}-byte slots, one send slot, the fewest receive slots), which it would
     * otherwise allocate and register for nothing. An accepted connection gets it from
     * {@link RdmaAcceptDecision#acceptOneSidedSharingProtectionDomain}.
     */
    public static final ChannelOption<Boolean> ONE_SIDED = valueOf(RdmaChannelOption.class, "ONE_SIDED");

    @SuppressWarnings("unused")
    private RdmaChannelOption() {
        super(null);
    }
}
