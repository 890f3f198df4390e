package io.livemig.transport.rdma.channel;

import io.netty.channel.ChannelOption;
import io.netty.channel.DefaultChannelConfig;
import java.util.Map;

/**
 * The configuration of an {@link RdmaChannel}: Netty's options plus the {@link RdmaChannelOption}s of a connection.
 * The queue and buffer options take effect when the channel is registered (they size its queue pair and rings).
 */
public final class RdmaChannelConfig extends DefaultChannelConfig {

    private volatile RdmaDeviceFactory provider = RdmaDeviceFactory.firstAvailable();
    private volatile int sendQueueDepth = 128;
    private volatile int receiveQueueDepth;
    private volatile int receiveBufferSize = 64 * 1024;
    private volatile int receiveBufferCount = 64;
    private volatile int sendBufferCount;
    private volatile int maxInline = 64;
    private volatile int cqSize;
    private volatile int retryCount = 7;
    private volatile int rnrRetryCount = 7;
    private volatile byte[] connectPrivateData = new byte[0];
    private volatile boolean creditFlowControl = true;
    private volatile boolean oneSided;

    RdmaChannelConfig(RdmaChannel channel) {
        super(channel);
        setMessageSizeEstimator(RdmaMessageSizeEstimator.INSTANCE);
    }

    @Override
    public Map<ChannelOption<?>, Object> getOptions() {
        return getOptions(super.getOptions(), RdmaChannelOption.PROVIDER, RdmaChannelOption.SEND_QUEUE_DEPTH,
                RdmaChannelOption.RECEIVE_QUEUE_DEPTH, RdmaChannelOption.RECEIVE_BUFFER_SIZE,
                RdmaChannelOption.RECEIVE_BUFFER_COUNT, RdmaChannelOption.SEND_BUFFER_COUNT,
                RdmaChannelOption.MAX_INLINE, RdmaChannelOption.CQ_SIZE,
                RdmaChannelOption.RETRY_COUNT, RdmaChannelOption.RNR_RETRY_COUNT,
                RdmaChannelOption.CONNECT_PRIVATE_DATA, RdmaChannelOption.CREDIT_FLOW_CONTROL,
                RdmaChannelOption.ONE_SIDED);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T getOption(ChannelOption<T> option) {
        Object value;
        if (option == RdmaChannelOption.PROVIDER) {
            value = provider;
        } else if (option == RdmaChannelOption.SEND_QUEUE_DEPTH) {
            value = sendQueueDepth;
        } else if (option == RdmaChannelOption.RECEIVE_QUEUE_DEPTH) {
            value = getReceiveQueueDepth();
        } else if (option == RdmaChannelOption.RECEIVE_BUFFER_SIZE) {
            value = receiveBufferSize;
        } else if (option == RdmaChannelOption.RECEIVE_BUFFER_COUNT) {
            value = receiveBufferCount;
        } else if (option == RdmaChannelOption.SEND_BUFFER_COUNT) {
            value = getSendBufferCount();
        } else if (option == RdmaChannelOption.MAX_INLINE) {
            value = maxInline;
        } else if (option == RdmaChannelOption.CQ_SIZE) {
            value = getCqSize();
        } else if (option == RdmaChannelOption.RETRY_COUNT) {
            value = retryCount;
        } else if (option == RdmaChannelOption.RNR_RETRY_COUNT) {
            value = rnrRetryCount;
        } else if (option == RdmaChannelOption.CONNECT_PRIVATE_DATA) {
            value = connectPrivateData.clone();
        } else if (option == RdmaChannelOption.CREDIT_FLOW_CONTROL) {
            value = creditFlowControl;
        } else if (option == RdmaChannelOption.ONE_SIDED) {
            value = oneSided;
        } else {
            return super.getOption(option);
        }
        return (T) value;
    }

    @Override
    public <T> boolean setOption(ChannelOption<T> option, T value) {
        validate(option, value);
        if (option == RdmaChannelOption.PROVIDER) {
            provider = (RdmaDeviceFactory) value;
        } else if (option == RdmaChannelOption.SEND_QUEUE_DEPTH) {
            sendQueueDepth = positive(option, (Integer) value, 1);
        } else if (option == RdmaChannelOption.RECEIVE_QUEUE_DEPTH) {
            receiveQueueDepth = positive(option, (Integer) value, 0);
        } else if (option == RdmaChannelOption.RECEIVE_BUFFER_SIZE) {
            receiveBufferSize = positive(option, (Integer) value, 1);
        } else if (option == RdmaChannelOption.RECEIVE_BUFFER_COUNT) {
            receiveBufferCount = positive(option, (Integer) value, 4);
        } else if (option == RdmaChannelOption.SEND_BUFFER_COUNT) {
            sendBufferCount = positive(option, (Integer) value, 0);
        } else if (option == RdmaChannelOption.MAX_INLINE) {
            maxInline = positive(option, (Integer) value, 0);
        } else if (option == RdmaChannelOption.CQ_SIZE) {
            cqSize = positive(option, (Integer) value, 0);
        } else if (option == RdmaChannelOption.RETRY_COUNT) {
            retryCount = retries(option, (Integer) value);
        } else if (option == RdmaChannelOption.RNR_RETRY_COUNT) {
            rnrRetryCount = retries(option, (Integer) value);
        } else if (option == RdmaChannelOption.CONNECT_PRIVATE_DATA) {
            connectPrivateData = ((byte[]) value).clone();
        } else if (option == RdmaChannelOption.CREDIT_FLOW_CONTROL) {
            creditFlowControl = (Boolean) value;
        } else if (option == RdmaChannelOption.ONE_SIDED) {
            oneSided = (Boolean) value;
        } else {
            return super.setOption(option, value);
        }
        return true;
    }

    private static int positive(ChannelOption<?> option, int value, int minimum) {
        if (value < minimum) {
            throw new IllegalArgumentException(shortName(option) + " must be >= " + minimum + ": " + value);
        }
        return value;
    }

    private static int retries(ChannelOption<?> option, int value) {
        if (value < 0 || value > 7) {
            throw new IllegalArgumentException(shortName(option) + " must be in 0..7: " + value);
        }
        return value;
    }

    /** {@code SEND_QUEUE_DEPTH} rather than Netty's {@code io.livemig...RdmaChannelOption#SEND_QUEUE_DEPTH}. */
    private static String shortName(ChannelOption<?> option) {
        String name = option.name();
        return name.substring(name.lastIndexOf('#') + 1);
    }

    /**
     * How the channel opens its device.
     *
     * @return the factory
     */
    public RdmaDeviceFactory getProvider() {
        return provider;
    }

    /**
     * The send queue depth.
     *
     * @return {@link RdmaChannelOption#SEND_QUEUE_DEPTH}
     */
    public int getSendQueueDepth() {
        return sendQueueDepth;
    }

    /**
     * The receive queue depth.
     *
     * @return {@link RdmaChannelOption#RECEIVE_QUEUE_DEPTH}, or the receive buffer count when unset
     */
    public int getReceiveQueueDepth() {
        return Math.max(receiveQueueDepth, receiveBufferCount);
    }

    /**
     * The size of a receive slot and of the largest SEND.
     *
     * @return {@link RdmaChannelOption#RECEIVE_BUFFER_SIZE}
     */
    public int getReceiveBufferSize() {
        return receiveBufferSize;
    }

    /**
     * The number of receive slots.
     *
     * @return {@link RdmaChannelOption#RECEIVE_BUFFER_COUNT}
     */
    public int getReceiveBufferCount() {
        return receiveBufferCount;
    }

    /**
     * The number of send slots.
     *
     * @return {@link RdmaChannelOption#SEND_BUFFER_COUNT}, or the send queue depth when unset or larger
     */
    public int getSendBufferCount() {
        return sendBufferCount > 0 ? Math.min(sendBufferCount, sendQueueDepth) : sendQueueDepth;
    }

    /**
     * The inline threshold.
     *
     * @return {@link RdmaChannelOption#MAX_INLINE}
     */
    public int getMaxInline() {
        return maxInline;
    }

    /**
     * The completion queue size.
     *
     * @return {@link RdmaChannelOption#CQ_SIZE}, or both queue depths added when unset
     */
    public int getCqSize() {
        return cqSize > 0 ? cqSize : sendQueueDepth + getReceiveQueueDepth();
    }

    /**
     * The transport retry count.
     *
     * @return {@link RdmaChannelOption#RETRY_COUNT}
     */
    public int getRetryCount() {
        return retryCount;
    }

    /**
     * The RNR retry count.
     *
     * @return {@link RdmaChannelOption#RNR_RETRY_COUNT}
     */
    public int getRnrRetryCount() {
        return rnrRetryCount;
    }

    /**
     * The private data of the connect request.
     *
     * @return a copy of {@link RdmaChannelOption#CONNECT_PRIVATE_DATA}
     */
    public byte[] getConnectPrivateData() {
        return connectPrivateData.clone();
    }

    /**
     * Whether credit-based flow control is on.
     *
     * @return {@link RdmaChannelOption#CREDIT_FLOW_CONTROL}
     */
    public boolean isCreditFlowControl() {
        return creditFlowControl;
    }

    /**
     * Whether the connection carries one-sided operations only (the smallest rings).
     *
     * @return {@link RdmaChannelOption#ONE_SIDED}
     */
    public boolean isOneSided() {
        return oneSided;
    }
}
