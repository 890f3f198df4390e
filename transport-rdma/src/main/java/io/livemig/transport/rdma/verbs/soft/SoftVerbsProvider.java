package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.unix.Native;
import io.livemig.transport.rdma.verbs.DeviceContext;
import io.livemig.transport.rdma.verbs.ProviderUnavailableException;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.VerbsProvider;

/**
 * The soft provider ({@code "soft"}): reliable-connected verbs in pure Java over a {@link TcpFabric} (default; one
 * TCP connection per queue pair, across processes and hosts) or an {@link InJvmFabric} (deterministic, with fault
 * injection). It needs nothing native but libc's eventfd, reached through FFM.
 */
public final class SoftVerbsProvider implements VerbsProvider {

    /** The provider name. */
    public static final String NAME = "soft";

    /** Creates the provider (called by {@link java.util.ServiceLoader}). */
    public SoftVerbsProvider() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Throwable unavailabilityCause() {
        // The eventfds behind completion and event channels are the only native dependency; Native probes once.
        return Native.unavailabilityCause();
    }

    @Override
    public DeviceContext open() throws VerbsException {
        return open(new TcpFabric(), true);
    }

    /**
     * Opens a device on the given fabric; the caller keeps ownership of the fabric and closes it after the device.
     *
     * @param fabric the fabric, e.g. an {@link InJvmFabric} shared by the devices of a test
     * @return a new device context
     * @throws VerbsException when the provider is unavailable
     */
    public DeviceContext open(Fabric fabric) throws VerbsException {
        return open(fabric, false);
    }

    /**
     * The memory regions registered now in a protection domain of this provider, for leak checks and fault
     * injection in tests (deregistering one behind its owner's back is a remote access error for its peer).
     *
     * @param pd a protection domain of a soft device
     * @return a snapshot of its registered regions
     * @throws IllegalArgumentException for another provider's protection domain
     */
    public static java.util.List<io.livemig.transport.rdma.verbs.MemoryRegion> registeredRegions(
            io.livemig.transport.rdma.verbs.ProtectionDomain pd) {
        if (!(pd instanceof SoftProtectionDomain soft)) {
            throw new IllegalArgumentException("not a soft protection domain: " + pd);
        }
        return soft.regions();
    }

    private DeviceContext open(Fabric fabric, boolean ownsFabric) throws VerbsException {
        Throwable cause = unavailabilityCause();
        if (cause != null) {
            throw new ProviderUnavailableException("verbs provider 'soft' is unavailable: " + cause.getMessage(),
                    cause);
        }
        return new SoftDevice(fabric, ownsFabric);
    }
}
