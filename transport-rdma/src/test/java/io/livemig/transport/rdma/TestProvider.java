package io.livemig.transport.rdma;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The providers that this module's provider-parameterized tests run on: the verbs conformance suites
 * ({@code io.livemig.transport.rdma.verbs.*ConformanceTest}) and the Netty channel tests
 * ({@code io.livemig.transport.rdma.channel.RdmaChannel*Test}) are each one {@code @ParameterizedClass} with an
 * invocation per provider, shown as {@code [in-jvm]}, {@code [soft-tcp]}, {@code [verbs]} and {@code [disni]}. The verbs and disni providers'
 * invocations skip, test by test and with the provider's reason, where there is no RDMA device.
 *
 * <p>System property {@value #PROPERTY} (a comma-separated list of the names above) restricts every such class to
 * the providers it names; {@code scripts/rxe-test.sh} (and so {@code scripts/rxe-lab.sh}) sets it to {@code verbs},
 * so that only the invocations over the RDMA device run. Unset or blank: all of them. A class whose providers are
 * all deselected runs nothing ({@code allowZeroInvocations}); a name that is none of these fails the class.
 *
 * <p>Surefire's XML reports name the invocations by index, in the order above: {@code [1]} in-jvm, {@code [2]}
 * soft-tcp, {@code [3]} verbs, {@code [4]} disni when all run.
 */
public enum TestProvider {

    /** The soft provider on an in-JVM fabric, one fabric per test. */
    IN_JVM("in-jvm"),
    /** The soft provider on its TCP fabric, found through the ServiceLoader as {@code soft}. */
    SOFT_TCP("soft-tcp"),
    /** The rdma-core provider through FFM on a real RDMA device (Soft-RoCE in the lab); skips without one. */
    VERBS("verbs"),
    /** The DiSNI provider on a real RDMA device; skips without libdisni or a device. */
    DISNI("disni");

    /** System property naming the providers to run on. */
    public static final String PROPERTY = "livemig.test.providers";

    private final String label;

    TestProvider(String label) {
        this.label = label;
    }

    /** The provider's name in display names and in {@value #PROPERTY}. */
    @Override
    public String toString() {
        return label;
    }

    /**
     * Every provider that {@value #PROPERTY} selects: the source of a class that runs on all of them.
     *
     * @return the selected providers
     */
    public static Stream<TestProvider> selected() {
        return selected(values());
    }

    /**
     * The soft provider's two fabrics that {@value #PROPERTY} selects: the source of a class that does not run on
     * the verbs provider.
     *
     * @return the selected soft providers
     */
    public static Stream<TestProvider> selectedSoft() {
        return selected(IN_JVM, SOFT_TCP);
    }

    private static Stream<TestProvider> selected(TestProvider... candidates) {
        String property = System.getProperty(PROPERTY, "").trim();
        if (property.isEmpty()) {
            return Stream.of(candidates);
        }
        Set<String> wanted = Arrays.stream(property.split(",")).map(String::trim).filter(name -> !name.isEmpty())
                .collect(Collectors.toSet());
        List<String> known = Arrays.stream(values()).map(TestProvider::toString).toList();
        for (String name : wanted) {
            if (!known.contains(name)) {
                // A typo would otherwise select nothing, and a run of nothing passes.
                throw new IllegalArgumentException("-D" + PROPERTY + ": unknown provider '" + name + "', expected "
                        + known);
            }
        }
        return Stream.of(candidates).filter(provider -> wanted.contains(provider.label));
    }
}
