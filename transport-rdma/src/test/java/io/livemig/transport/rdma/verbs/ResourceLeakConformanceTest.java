package io.livemig.transport.rdma.verbs;

import io.livemig.transport.rdma.TestProvider;
import io.livemig.transport.rdma.verbs.conformance.ProviderFixture;
import io.livemig.transport.rdma.verbs.conformance.ResourceLeakConformance;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The ResourceLeak conformance suite on every provider of this module ({@link TestProvider}): the soft
 * provider's in-JVM and TCP fabrics, and the verbs provider on a real RDMA device, whose tests skip with the
 * provider's reason without one.
 */
@ParameterizedClass(name = "[{0}]", allowZeroInvocations = true)
@MethodSource("io.livemig.transport.rdma.TestProvider#selected")
class ResourceLeakConformanceTest extends ResourceLeakConformance {

    @Parameter
    TestProvider provider;
    private ProviderFixture fixture;

    @Override
    protected ProviderFixture fixture() {
        if (fixture == null) {
            fixture = ConformanceProviders.fixture(provider);
        }
        return fixture;
    }

    @Override
    protected String threadPrefix() {
        return ConformanceProviders.threadPrefix(provider);
    }
}
