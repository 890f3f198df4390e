package io.livemig.transport.rdma.verbs;

import io.livemig.transport.rdma.TestProvider;
import io.livemig.transport.rdma.verbs.conformance.ProviderFixture;
import io.livemig.transport.rdma.verbs.conformance.StressConformance;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Stress conformance suite on every provider of this module ({@link TestProvider}): the soft
 * provider's in-JVM and TCP fabrics, and the verbs provider on a real RDMA device, whose tests skip with the
 * provider's reason without one.
 */
@ParameterizedClass(name = "[{0}]", allowZeroInvocations = true)
@MethodSource("io.livemig.transport.rdma.TestProvider#selected")
class StressConformanceTest extends StressConformance {

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
}
