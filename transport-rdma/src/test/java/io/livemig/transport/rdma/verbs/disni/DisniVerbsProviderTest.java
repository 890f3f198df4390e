package io.livemig.transport.rdma.verbs.disni;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.livemig.transport.rdma.verbs.ProviderUnavailableException;
import io.livemig.transport.rdma.verbs.Verbs;
import io.livemig.transport.rdma.verbs.VerbsProvider;
import org.junit.jupiter.api.Test;

/** The disni provider's lookup and gate; the verbs themselves are the conformance suite's ({@code [disni]}). */
class DisniVerbsProviderTest {

    @Test
    void isFoundByTheServiceLoaderUnderItsName() {
        assertThat(Verbs.providers()).extracting(VerbsProvider::name).contains("disni");
    }

    @Test
    void gateIsProbedOnceAndCached() {
        assertThat(new DisniVerbsProvider().unavailabilityCause()).isSameAs(new DisniVerbsProvider()
                .unavailabilityCause());
    }

    @Test
    void withoutLibdisniTheGateNamesTheLibraryAndTheScriptThatBuildsIt() {
        assumeTrue(!System.getProperty("java.library.path", "").contains("libdisni"),
                "java.library.path names a libdisni directory");
        VerbsProvider provider = new DisniVerbsProvider();
        assertThat(provider.isAvailable()).isFalse();
        assertThat(provider.unavailabilityCause().getMessage())
                .startsWith("libdisni not found on java.library.path (")
                .endsWith("): build it with scripts/build-libdisni.sh and pass -Djava.library.path=<its directory>");
        assertThatThrownBy(() -> Verbs.provider("disni"))
                .isInstanceOf(ProviderUnavailableException.class)
                .hasMessageStartingWith("verbs provider 'disni' is unavailable: libdisni not found on "
                        + "java.library.path (");
    }

    @Test
    void acknowledgesTheAckTimeoutOnlyInRange() {
        String before = System.getProperty(DisniVerbsProvider.ACK_TIMEOUT_PROPERTY);
        try {
            System.setProperty(DisniVerbsProvider.ACK_TIMEOUT_PROPERTY, "18");
            assertThat(DisniVerbsProvider.ackTimeout()).isEqualTo(18);
            System.setProperty(DisniVerbsProvider.ACK_TIMEOUT_PROPERTY, "32");
            assertThat(DisniVerbsProvider.ackTimeout()).isNull();
            System.setProperty(DisniVerbsProvider.ACK_TIMEOUT_PROPERTY, "x");
            assertThat(DisniVerbsProvider.ackTimeout()).isNull();
        } finally {
            if (before == null) {
                System.clearProperty(DisniVerbsProvider.ACK_TIMEOUT_PROPERTY);
            } else {
                System.setProperty(DisniVerbsProvider.ACK_TIMEOUT_PROPERTY, before);
            }
        }
    }
}
