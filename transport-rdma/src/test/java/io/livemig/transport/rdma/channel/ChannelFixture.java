package io.livemig.transport.rdma.channel;

import io.livemig.transport.rdma.TestProvider;
import java.io.IOException;
import io.livemig.transport.rdma.verbs.conformance.ProviderLimit;
import java.net.InetSocketAddress;
import java.util.Set;

/**
 * How the channel tests reach one {@link TestProvider}: how channels open devices and where they listen. A fixture
 * lives for one test; {@link RdmaChannelTestBase} makes it from the class's provider parameter before the test.
 */
interface ChannelFixture {

    /**
     * The fixture of a provider, new for each test.
     *
     * @param provider the provider of the invocation
     * @return its fixture
     */
    static ChannelFixture of(TestProvider provider) {
        return switch (provider) {
            case IN_JVM -> new InJvmFabricFixture();
            case SOFT_TCP -> new TcpFabricFixture();
            case VERBS -> new VerbsDeviceFixture();
            case DISNI -> new DisniDeviceFixture();
        };
    }

    /** Skips the test, saying why, when the provider cannot run here; before anything is counted. */
    default void assumeAvailable() {
    }

    /** How channels open devices. */
    RdmaDeviceFactory devices();

    /** Where servers listen (port 0). */
    InetSocketAddress listenAddress();

    /** An address where nobody listens, so a connect fails. */
    InetSocketAddress addressNobodyListensOn() throws IOException;

    /**
     * The gaps of the provider's native binding (DiSNI: no incoming private data, no CM event status); tests whose
     * subject is one of them skip with the reason.
     *
     * @return the limits
     */
    default Set<ProviderLimit> limits() {
        return Set.of();
    }

    /** Closes what the test's devices share (a fabric) after every loop is gone. */
    default void close() {
    }
}
