package io.livemig.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.EventStatistics;

/** A skipped test says why on the console, where CI logs show it. */
class SkipReasonTest {

    @Test
    void printsTheAssumptionThatSkippedATest() {
        String output = runCapturingStdout(NeedsRdma.class);
        assertThat(output).contains("SKIPPED NeedsRdma.writesOverRdma(): no RDMA device: /sys/class/infiniband is empty");
    }

    @Test
    void printsTheReasonATestIsDisabled() {
        String output = runCapturingStdout(NeedsRdma.class);
        assertThat(output).contains("SKIPPED NeedsRdma.disabledForNow(): needs root");
    }

    @Test
    void namesTheInvocationOfAParameterizedClassThatSkipped() {
        String output = runCapturingStdout(NeedsProvider.class, stats -> stats.aborted(1).succeeded(1));
        assertThat(output).contains("SKIPPED NeedsProvider[verbs].connects(): no verbs provider here")
                .doesNotContain("NeedsProvider[soft]");
    }

    @Test
    void printsTheReasonAWholeClassIsSkipped() {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            EngineTestKit.engine("junit-jupiter")
                    .configurationParameter("junit.jupiter.extensions.autodetection.enabled", "true")
                    .selectors(selectClass(NeedsDocker.class))
                    .execute()
                    .containerEvents()
                    .assertStatistics(stats -> stats.aborted(1));
        } finally {
            System.setOut(original);
        }
        assertThat(captured.toString(StandardCharsets.UTF_8))
                .contains("SKIPPED NeedsDocker (all tests): Docker is not available");
    }

    private static String runCapturingStdout(Class<?> testClass) {
        return runCapturingStdout(testClass, stats -> stats.skipped(1).aborted(1).succeeded(0));
    }

    private static String runCapturingStdout(Class<?> testClass, Consumer<EventStatistics> expected) {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            EngineTestKit.engine("junit-jupiter")
                    .configurationParameter("junit.jupiter.extensions.autodetection.enabled", "true")
                    .selectors(selectClass(testClass))
                    .execute()
                    .testEvents()
                    .assertStatistics(expected);
        } finally {
            System.setOut(original);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    /** A class whose every test needs something absent; run only through EngineTestKit. */
    static class NeedsDocker {

        @org.junit.jupiter.api.BeforeAll
        static void docker() {
            Assumptions.assumeTrue(false, "Docker is not available");
        }

        @Test
        void runsAContainer() {
        }
    }

    /** A test class run once per provider, where one provider is absent; run only through EngineTestKit. */
    @ParameterizedClass(name = "[{0}]")
    @ValueSource(strings = {"soft", "verbs"})
    static class NeedsProvider {

        @Parameter
        String provider;

        @Test
        void connects() {
            Assumptions.assumeTrue(provider.equals("soft"), "no " + provider + " provider here");
        }
    }

    /** Runs only through EngineTestKit above (static nested classes are not picked up by Surefire). */
    static class NeedsRdma {

        @Test
        void writesOverRdma() {
            Assumptions.assumeTrue(false, "no RDMA device: /sys/class/infiniband is empty");
        }

        @Test
        @Disabled("needs root")
        void disabledForNow() {
        }
    }
}
