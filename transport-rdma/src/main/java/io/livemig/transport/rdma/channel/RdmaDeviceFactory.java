package io.livemig.transport.rdma.channel;

import io.livemig.transport.rdma.verbs.DeviceContext;
import io.livemig.transport.rdma.verbs.Verbs;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.VerbsProvider;
import java.util.Objects;

/**
 * Opens the device a channel runs on (the value of {@link RdmaChannelOption#PROVIDER}). A client channel opens one
 * device per connection; a server channel opens one and its accepted children share it.
 */
@FunctionalInterface
public interface RdmaDeviceFactory {

    /**
     * Opens a device; the caller owns it.
     *
     * @return a new device context
     * @throws VerbsException when the device cannot be opened
     */
    DeviceContext open() throws VerbsException;

    /**
     * Opens the default device of a provider.
     *
     * @param provider the provider
     * @return the factory
     */
    static RdmaDeviceFactory of(VerbsProvider provider) {
        Objects.requireNonNull(provider, "provider");
        return provider::open;
    }

    /**
     * Opens the default device of the provider with the given name, looked up on each open.
     *
     * @param name the provider name, e.g. {@code "soft"}
     * @return the factory
     */
    static RdmaDeviceFactory named(String name) {
        Objects.requireNonNull(name, "name");
        return () -> Verbs.provider(name).open();
    }

    /**
     * The first available provider found by {@link Verbs#providers()}; the default of {@link RdmaChannelOption#PROVIDER}.
     *
     * @return the factory
     */
    static RdmaDeviceFactory firstAvailable() {
        return () -> {
            for (VerbsProvider provider : Verbs.providers()) {
                if (provider.isAvailable()) {
                    return provider.open();
                }
            }
            return Verbs.provider("soft").open();
        };
    }
}
