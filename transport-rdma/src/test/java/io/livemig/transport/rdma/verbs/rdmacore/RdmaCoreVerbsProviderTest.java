package io.livemig.transport.rdma.verbs.rdmacore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.livemig.transport.rdma.verbs.DeviceContext;
import io.livemig.transport.rdma.verbs.ProviderUnavailableException;
import io.livemig.transport.rdma.verbs.Verbs;
import io.livemig.transport.rdma.verbs.VerbsProvider;
import org.junit.jupiter.api.Test;

/** The availability gate and the ServiceLoader registration; runs everywhere, with or without rdma-core. */
class RdmaCoreVerbsProviderTest {

    private final VerbsProvider provider = new RdmaCoreVerbsProvider();

    @Test
    void isRegisteredWithTheServiceLoaderAsVerbs() {
        assertThat(Verbs.providers()).filteredOn(p -> p.name().equals("verbs"))
                .singleElement().isInstanceOf(RdmaCoreVerbsProvider.class);
    }

    @Test
    void causeNamesWhatIsMissingAndTheLookupFailsFastWithIt() {
        assumeFalse(provider.isAvailable(), "an RDMA device is present");
        String cause = provider.unavailabilityCause().getMessage();

        assertThat(cause).matches("(library missing: |no RDMA device|memlock limit too low|libc bindings).*");
        assertThatThrownBy(() -> Verbs.provider("verbs"))
                .isInstanceOf(ProviderUnavailableException.class)
                .hasMessageStartingWith("verbs provider 'verbs' is unavailable: " + cause);
        assertThatThrownBy(provider::open)
                .isInstanceOf(ProviderUnavailableException.class)
                .hasMessage("verbs provider 'verbs' is unavailable: " + cause);
    }

    @Test
    void opensADeviceWithItsLimitsAndClosesItIdempotently() throws Exception {
        assumeTrue(provider.isAvailable(), () -> provider.unavailabilityCause().getMessage());
        DeviceContext device = provider.open();

        assertThat(device.name()).isNotBlank();
        assertThat(device.attributes().maxPrivateData()).isEqualTo(56);
        assertThat(device.attributes().maxMrSize()).isNotZero(); // unsigned: rxe reports ~0ULL
        assertThat(device.attributes().maxCqe()).isPositive();
        device.close();
        device.close();
    }

    @Test
    void probesOnceAndCachesTheOutcome() {
        assertThat(new RdmaCoreVerbsProvider().unavailabilityCause()).isSameAs(provider.unavailabilityCause());
    }
}
