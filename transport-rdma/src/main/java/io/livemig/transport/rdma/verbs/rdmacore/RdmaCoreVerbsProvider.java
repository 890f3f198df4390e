package io.livemig.transport.rdma.verbs.rdmacore;

import io.livemig.transport.rdma.verbs.ConnectionParameters;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.livemig.transport.rdma.verbs.DeviceContext;
import io.livemig.transport.rdma.verbs.ProviderUnavailableException;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.livemig.transport.rdma.verbs.VerbsProvider;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code "verbs"} provider: rdma-core ({@code libibverbs.so.1}, {@code librdmacm.so.1}) through the FFM API,
 * for InfiniBand, RoCE and iWARP NICs and the kernel's Soft-RoCE ({@code rdma_rxe}). No JNI library is built or
 * shipped; whatever rdma-core the host has is used.
 *
 * <p>Configuration (system properties, read when a device is opened or an identifier created):
 * <ul>
 * <li>{@value #DEVICE_PROPERTY}: the device to open ({@code mlx5_0}, {@code rxe0}); default the first one
 * rdma_cm knows.</li>
 * <li>{@value #ACK_TIMEOUT_PROPERTY}: the QP local ACK timeout exponent (0-31) set on every identifier with
 * {@code RDMA_OPTION_ID_ACK_TIMEOUT}; unset keeps the kernel's choice. Slow links need 18-20.</li>
 * </ul>
 */
// reinterpret() of pointers libibverbs/librdmacm return is restricted; native access is enabled for the JVM.
@SuppressWarnings("restricted")
public final class RdmaCoreVerbsProvider implements VerbsProvider {

    /** The provider name. */
    public static final String NAME = "verbs";
    /** System property naming the device to open. */
    public static final String DEVICE_PROPERTY = "livemig.verbs.device";
    /** System property with the QP ACK timeout exponent. */
    public static final String ACK_TIMEOUT_PROPERTY = "livemig.verbs.ackTimeout";

    /** Creates the provider (called by {@link java.util.ServiceLoader}); probes nothing until asked. */
    public RdmaCoreVerbsProvider() {
    }

    @Override
    public String name() {
        return NAME;
    }

    /**
     * Why the provider cannot run here: the first of a missing libc binding, a missing {@code libibverbs.so.1} or
     * {@code librdmacm.so.1}, no RDMA device, or a memlock limit below what the control buffers need. Probed once.
     *
     * @return the cause, or {@code null} when available
     */
    @Override
    public Throwable unavailabilityCause() {
        return Availability.cause();
    }

    @Override
    public DeviceContext open() throws VerbsException {
        Throwable cause = unavailabilityCause();
        if (cause != null) {
            throw new ProviderUnavailableException("verbs provider '" + NAME + "' is unavailable: "
                    + cause.getMessage(), cause);
        }
        String wanted = System.getProperty(DEVICE_PROPERTY);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Errors.allocateErrnoState(arena);
            MemorySegment count = arena.allocate(JAVA_INT);
            MemorySegment list = (MemorySegment) Cm.GET_DEVICES.invokeExact(state, count);
            if (list.equals(MemorySegment.NULL)) {
                throw Errors.failure("rdma_get_devices", Errors.errno(state));
            }
            try {
                int n = count.get(JAVA_INT, 0);
                MemorySegment contexts = list.reinterpret(ADDRESS.byteSize() * n);
                List<String> names = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    MemorySegment context = contexts.getAtIndex(ADDRESS, i)
                            .reinterpret(VerbsStructs.IBV_CONTEXT.byteSize());
                    String name = deviceName(context);
                    if (wanted == null || wanted.equals(name)) {
                        return new RdmaCoreDevice(context, name);
                    }
                    names.add(name);
                }
                throw new VerbsException("no RDMA device named '" + wanted + "' (property " + DEVICE_PROPERTY
                        + "); rdma_cm knows " + names);
            } finally {
                // Frees the array only: the contexts stay open, owned by librdmacm (man rdma_get_devices).
                Cm.FREE_DEVICES.invokeExact(list);
            }
        } catch (VerbsException e) {
            throw e;
        } catch (Throwable t) {
            throw Errors.unexpected(t);
        }
    }

    private static String deviceName(MemorySegment context) throws Throwable {
        MemorySegment device = (MemorySegment) VerbsStructs.CONTEXT_DEVICE.get(context, 0L);
        return Ibv.string((MemorySegment) Ibv.GET_DEVICE_NAME.invokeExact(device));
    }

    /**
     * The configured ACK timeout exponent.
     *
     * @return 0-31, or {@code null} when not configured or not a number in range
     */
    static Integer ackTimeout() {
        return ConnectionParameters.ackTimeoutExponent(ACK_TIMEOUT_PROPERTY);
    }
}
