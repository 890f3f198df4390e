package io.livemig.transport.rdma.verbs;

/**
 * An opened device ({@code struct ibv_context}) and the factory of every resource that lives on it.
 *
 * <p>The caller owns the context and each resource it creates. Closing the context closes whatever the caller
 * left open (queue pairs and connection identifiers first, memory regions last), so a crashed owner leaks nothing;
 * {@link #close()} is idempotent and may be called from any thread.
 */
public interface DeviceContext extends AutoCloseable {

    /**
     * The device's name, e.g. {@code "soft-tcp0"} or {@code "mlx5_0"}.
     *
     * @return the name
     */
    String name();

    /**
     * The device limits ({@code ibv_query_device}).
     *
     * @return the attributes
     */
    DeviceAttributes attributes();

    /**
     * Whether registering memory pins its pages ({@code ibv_reg_mr} does: the kernel pins them for the adapter's
     * DMA until the region is deregistered). What depends on it: Linux never clears the soft-dirty bit of a page
     * pinned for DMA in a private mapping (fs/proc/task_mmu.c, {@code clear_soft_dirty} skips a pinned page, which
     * the device may write at any time), so soft-dirty tracking reports every registered page written, every round.
     *
     * @return {@code true} (the default) unless the provider only copies from the memory, as the soft one does
     */
    default boolean pinsRegisteredMemory() {
        return true;
    }

    /**
     * Allocates a protection domain ({@code ibv_alloc_pd}).
     *
     * @return a new protection domain
     * @throws VerbsException when the device is closed
     */
    ProtectionDomain allocateProtectionDomain() throws VerbsException;

    /**
     * Creates a completion channel ({@code ibv_create_comp_channel}) whose file descriptor becomes readable when an
     * armed completion queue bound to it receives a completion.
     *
     * @return a new completion channel
     * @throws VerbsException when the device is closed or the descriptor cannot be created
     */
    CompletionChannel createCompletionChannel() throws VerbsException;

    /**
     * Creates a completion queue ({@code ibv_create_cq}).
     *
     * @param capacity the minimum number of entries, at most {@link DeviceAttributes#maxCqe()}
     * @param channel the channel to notify when the queue is armed, or {@code null} for a polled-only queue
     * @return a new completion queue
     * @throws VerbsException when the capacity is out of range or the device is closed
     */
    CompletionQueue createCompletionQueue(int capacity, CompletionChannel channel) throws VerbsException;

    /**
     * Creates an rdma_cm event channel ({@code rdma_create_event_channel}).
     *
     * @return a new event channel
     * @throws VerbsException when the device is closed or the descriptor cannot be created
     */
    CmEventChannel createEventChannel() throws VerbsException;

    /** Closes the device and every resource still open on it; idempotent, callable from any thread. */
    @Override
    void close();
}
