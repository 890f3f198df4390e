package io.livemig.transport.rdma.verbs.conformance;

import io.livemig.transport.rdma.verbs.DeviceContext;
import io.livemig.transport.rdma.verbs.VerbsException;
import java.net.InetSocketAddress;
import java.util.Set;

/**
 * How the conformance suite reaches one provider (and, for the soft provider, one fabric): a suite
 * subclass returns one from {@link VerbsConformanceBase#fixture()} and declares nothing else.
 */
public interface ProviderFixture {

    /** Skips the test unless the provider can run here, saying why (called before every test). */
    default void assumeAvailable() {
    }

    /**
     * Opens a new device of the provider under test. Two calls give two devices that can reach each other.
     *
     * @return the device
     * @throws VerbsException when the provider cannot open one
     */
    DeviceContext openDevice() throws VerbsException;

    /**
     * An address to listen on, with port 0.
     *
     * @return the address
     */
    InetSocketAddress listenAddress();

    /**
     * An IPv6 address to listen on, with port 0.
     *
     * @return the address
     */
    default InetSocketAddress ipv6ListenAddress() {
        return new InetSocketAddress("::1", 0);
    }

    /**
     * An address where nobody listens, so a connect is rejected or unreachable.
     *
     * @return the address
     * @throws Exception when none can be found
     */
    InetSocketAddress addressNobodyListensOn() throws Exception;

    /**
     * The deviations from the specification that the suite accepts from this device. A provider that follows the
     * specification declares none, which is the default; a fixture that declares some keys them to the device's
     * driver and documents each one (see {@link KnownDeviation}).
     *
     * @param device a device the test opened
     * @return the deviations the suite accepts from it
     */
    default Set<KnownDeviation> knownDeviations(DeviceContext device) {
        return Set.of();
    }

    /**
     * The gaps of the provider's native binding that the suite accepts (see {@link ProviderLimit}). A provider
     * that models the whole SPI declares none, which is the default.
     *
     * @return the limits
     */
    default Set<ProviderLimit> limits() {
        return Set.of();
    }

    /** Called after every device of a test is closed; closes what the fixture shares (a fabric). */
    default void close() {
    }
}
