package io.livemig.transport.rdma.channel;

import io.netty.channel.ChannelOption;
import io.netty.channel.DefaultChannelConfig;
import java.util.Map;

/** The configuration of an {@link RdmaServerChannel}: its device, listen backlog and acceptor. */
public final class RdmaServerChannelConfig extends DefaultChannelConfig {

    private volatile RdmaDeviceFactory provider = RdmaDeviceFactory.firstAvailable();
    private volatile int backlog = 128;
    private volatile RdmaAcceptor acceptor = RdmaAcceptor.ACCEPT_ALL;

    RdmaServerChannelConfig(RdmaServerChannel channel) {
        super(channel);
    }

    @Override
    public Map<ChannelOption<?>, Object> getOptions() {
        return getOptions(super.getOptions(), RdmaChannelOption.PROVIDER, RdmaChannelOption.ACCEPTOR,
                ChannelOption.SO_BACKLOG);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T getOption(ChannelOption<T> option) {
        if (option == RdmaChannelOption.PROVIDER) {
            return (T) provider;
        }
        if (option == RdmaChannelOption.ACCEPTOR) {
            return (T) acceptor;
        }
        if (option == ChannelOption.SO_BACKLOG) {
            return (T) Integer.valueOf(backlog);
        }
        return super.getOption(option);
    }

    @Override
    public <T> boolean setOption(ChannelOption<T> option, T value) {
        validate(option, value);
        if (option == RdmaChannelOption.PROVIDER) {
            provider = (RdmaDeviceFactory) value;
        } else if (option == RdmaChannelOption.ACCEPTOR) {
            acceptor = (RdmaAcceptor) value;
        } else if (option == ChannelOption.SO_BACKLOG) {
            int requested = (Integer) value;
            if (requested < 1) {
                throw new IllegalArgumentException("SO_BACKLOG must be positive: " + requested);
            }
            backlog = requested;
        } else {
            return super.setOption(option, value);
        }
        return true;
    }

    /**
     * How the server opens its device, which its children share.
     *
     * @return the factory
     */
    public RdmaDeviceFactory getProvider() {
        return provider;
    }

    /**
     * The listen backlog.
     *
     * @return {@link ChannelOption#SO_BACKLOG}
     */
    public int getBacklog() {
        return backlog;
    }

    /**
     * The per-connection acceptor.
     *
     * @return {@link RdmaChannelOption#ACCEPTOR}
     */
    public RdmaAcceptor getAcceptor() {
        return acceptor;
    }
}
