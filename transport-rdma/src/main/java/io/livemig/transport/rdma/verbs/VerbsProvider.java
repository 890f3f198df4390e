package io.livemig.transport.rdma.verbs;

/**
 * A verbs implementation (the soft provider, rdma-core through FFM, DiSNI), found with
 * {@link java.util.ServiceLoader} and usually looked up through {@link Verbs#provider(String)}.
 *
 * <p>Implementations probe their prerequisites (native libraries, devices) at most once and cache the outcome:
 * {@link #isAvailable()} and {@link #unavailabilityCause()} are cheap after the first call.
 */
public interface VerbsProvider {

    /**
     * The provider's short, unique name ({@code "soft"}, {@code "verbs"}, {@code "disni"}).
     *
     * @return the name used by {@link Verbs#provider(String)}
     */
    String name();

    /**
     * Whether {@link #open()} can succeed on this machine.
     *
     * @return {@code true} when the provider's prerequisites are present
     */
    default boolean isAvailable() {
        return unavailabilityCause() == null;
    }

    /**
     * Why the provider cannot run here, probed once and cached.
     *
     * @return the cause, or {@code null} when the provider is available
     */
    Throwable unavailabilityCause();

    /**
     * Opens the provider's default device ({@code ibv_open_device}).
     *
     * @return a new device context owned by the caller
     * @throws ProviderUnavailableException when the provider is unavailable
     * @throws VerbsException when the device cannot be opened
     */
    DeviceContext open() throws VerbsException;
}
