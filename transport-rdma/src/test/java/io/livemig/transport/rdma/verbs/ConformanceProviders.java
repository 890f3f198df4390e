package io.livemig.transport.rdma.verbs;

import io.livemig.transport.rdma.TestProvider;
import io.livemig.transport.rdma.verbs.conformance.ProviderFixture;
import io.livemig.transport.rdma.verbs.disni.DisniFixtures;
import io.livemig.transport.rdma.verbs.rdmacore.RdmaCoreFixtures;
import io.livemig.transport.rdma.verbs.soft.SoftFixtures;

/**
 * This module's providers as the conformance suite sees them: each {@code *ConformanceTest} here is a
 * {@code @ParameterizedClass} over {@link TestProvider} that runs one suite of
 * {@code io.livemig.transport.rdma.verbs.conformance} (which stays abstract, for other providers' test modules to
 * subclass) with the fixture given here.
 */
final class ConformanceProviders {

    private ConformanceProviders() {
    }

    /**
     * A new fixture of the provider, for one test: the in-JVM fabric is the test's own and closed with it.
     *
     * @param provider the provider of the invocation
     * @return its fixture
     */
    static ProviderFixture fixture(TestProvider provider) {
        return switch (provider) {
            case IN_JVM -> SoftFixtures.inJvm();
            case SOFT_TCP -> SoftFixtures.TCP;
            case VERBS -> RdmaCoreFixtures.FIXTURE;
            case DISNI -> DisniFixtures.FIXTURE;
        };
    }

    /**
     * The name prefix of every thread the provider starts.
     *
     * @param provider the provider
     * @return the prefix
     */
    static String threadPrefix(TestProvider provider) {
        return switch (provider) {
            case IN_JVM, SOFT_TCP -> SoftFixtures.THREAD_PREFIX;
            case VERBS -> RdmaCoreFixtures.THREAD_PREFIX;
            case DISNI -> DisniFixtures.THREAD_PREFIX;
        };
    }
}
