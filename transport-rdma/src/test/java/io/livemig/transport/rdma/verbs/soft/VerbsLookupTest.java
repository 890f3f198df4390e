package io.livemig.transport.rdma.verbs.soft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.livemig.transport.rdma.verbs.DeviceAttributes;
import io.livemig.transport.rdma.verbs.ProviderUnavailableException;
import io.livemig.transport.rdma.verbs.Verbs;
import io.livemig.transport.rdma.verbs.VerbsProvider;
import org.junit.jupiter.api.Test;

/** The ServiceLoader facade finds the soft provider and explains what it cannot find. */
class VerbsLookupTest {

    @Test
    void softProviderIsRegisteredAndAvailable() throws Exception {
        VerbsProvider provider = Verbs.provider("soft");

        assertThat(provider).isInstanceOf(SoftVerbsProvider.class);
        assertThat(provider.isAvailable()).isTrue();
        assertThat(provider.unavailabilityCause()).isNull();
        assertThat(Verbs.providers()).extracting(VerbsProvider::name).contains("soft");
    }

    @Test
    void unknownProviderNameListsTheProvidersFound() {
        // Other providers on the class path (rdma-core, DiSNI) appear in the list too, with their causes.
        assertThatThrownBy(() -> Verbs.provider("mlx5"))
                .isInstanceOf(ProviderUnavailableException.class)
                .hasMessageStartingWith("no verbs provider named 'mlx5'; providers: ")
                .hasMessageContaining("soft (available)");
    }

    @Test
    void softDeviceReportsTheRcPrivateDataLimit() throws Exception {
        try (var device = Verbs.provider("soft").open()) {
            DeviceAttributes attributes = device.attributes();

            assertThat(attributes.maxPrivateData()).isEqualTo(56);
            assertThat(attributes.maxMrSize()).isGreaterThan(1L << 32);
            assertThat(device.name()).startsWith("soft-tcp");
        }
    }
}
