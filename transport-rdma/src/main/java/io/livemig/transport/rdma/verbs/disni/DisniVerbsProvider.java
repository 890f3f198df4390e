package io.livemig.transport.rdma.verbs.disni;

import io.livemig.transport.rdma.verbs.ConnectionParameters;
import io.livemig.transport.rdma.verbs.DeviceContext;
import io.livemig.transport.rdma.verbs.ProviderUnavailableException;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.VerbsProvider;

/**
 * The {@code "disni"} provider: the verbs SPI on DiSNI ({@code com.ibm.disni:disni} 2.1), IBM's JNI binding of
 * libibverbs and librdmacm, through its verbs-level API ({@code RdmaEventChannel}, {@code RdmaCmId},
 * {@code IbvPd}, {@code IbvMr}, {@code IbvCQ}, {@code IbvQP} and the stateful verb calls), never its endpoint
 * layer. DiSNI's native half, {@code libdisni.so}, is not on Maven Central: {@code scripts/build-libdisni.sh} builds
 * it, and the JVM needs {@code -Djava.library.path=<its directory>} and
 * {@code --add-exports java.base/sun.nio.ch=ALL-UNNAMED}.
 *
 * <p>DiSNI's limits, which the provider reports instead of hiding (docs/disni-provider.md):
 * <ul>
 * <li>incoming private data is discarded (CONNECT_REQUEST, ESTABLISHED and REJECTED carry none), {@code accept}
 * sends none, and the event status is lost (0);</li>
 * <li>{@code reject} destroys the request's identifier, so the peer's IB CM answers with a consumer-defined REJ
 * without the private data;</li>
 * <li>IPv4 only; one memory region is below 2 GiB ({@code int} length).</li>
 * </ul>
 * What DiSNI lacks and the SPI needs (the real descriptors, the queue that fired, moving a queue pair to ERR, its
 * state, the ACK timeout) comes from {@link DisniNative}, on the same native objects.
 *
 * <p>Configuration (system properties): {@value #DEVICE_PROPERTY} (the device, default the first one in
 * {@code /sys/class/infiniband}), {@value #ADDRESS_PROPERTY} (the IPv4 address to open the device by, default the
 * first address of the device's network interface), {@value #ACK_TIMEOUT_PROPERTY} (the QP ACK timeout exponent
 * 0-31; unset keeps the kernel's choice).
 */
public final class DisniVerbsProvider implements VerbsProvider {

    /** The provider name. */
    public static final String NAME = "disni";
    /** System property naming the device to open. */
    public static final String DEVICE_PROPERTY = "livemig.disni.device";
    /** System property with the IPv4 address the device is opened by. */
    public static final String ADDRESS_PROPERTY = "livemig.disni.address";
    /** System property with the QP ACK timeout exponent. */
    public static final String ACK_TIMEOUT_PROPERTY = "livemig.disni.ackTimeout";

    /** Creates the provider (called by {@link java.util.ServiceLoader}); probes nothing until asked. */
    public DisniVerbsProvider() {
    }

    @Override
    public String name() {
        return NAME;
    }

    /**
     * Why the provider cannot run here: the first of DiSNI's jar missing, {@code sun.nio.ch} not exported to it,
     * {@code libdisni} not on {@code java.library.path}, rdma-core missing, or no RDMA device. Probed once.
     *
     * @return the cause, or {@code null} when available
     */
    @Override
    public Throwable unavailabilityCause() {
        return DisniAvailability.cause();
    }

    @Override
    public DeviceContext open() throws VerbsException {
        Throwable cause = unavailabilityCause();
        if (cause != null) {
            throw new ProviderUnavailableException("verbs provider '" + NAME + "' is unavailable: "
                    + cause.getMessage(), cause);
        }
        return DisniDevice.open(DisniDeviceAddress.find(System.getProperty(DEVICE_PROPERTY),
                System.getProperty(ADDRESS_PROPERTY)));
    }

    /**
     * The configured ACK timeout exponent.
     *
     * @return 0-31, or {@code null} when not configured or not a number in range
     */
    static Integer ackTimeout() {
        return ConnectionParameters.ackTimeoutExponent(ACK_TIMEOUT_PROPERTY);
    }
}
