package io.livemig.transport.rdma.verbs.rdmacore;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * The libibverbs functions this provider calls, bound once from {@code libibverbs.so.1} (the runtime package
 * {@code libibverbs1}; the unversioned {@code libibverbs.so} exists only with the -dev package).
 *
 * <p>Exported functions are bound by name; {@code dlsym} resolves the default symbol version, {@code IBVERBS_1.1}.
 * The data-path verbs are static inline in verbs.h and have no symbol: their handles here take the function pointer
 * read from {@code ibv_context.ops} as first argument. Functions that report failure through errno capture it
 * ({@code man ibv_reg_mr}: "returns NULL ... errno"); those that return the errno ({@code ibv_post_send},
 * {@code ibv_modify_qp}, {@code ibv_query_qp}) do not need to.
 *
 * <p>If the library is missing, class initialisation fails; {@link Availability} turns that into the provider's
 * unavailability cause before any other class touches this one.
 */
@SuppressWarnings("restricted")
final class Ibv {

    /** The soname loaded. */
    static final String LIBRARY = "libibverbs.so.1";

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LOOKUP = SymbolLookup.libraryLookup(LIBRARY, Arena.global());

    // struct ibv_device **ibv_get_device_list(int *num_devices)
    static final MethodHandle GET_DEVICE_LIST = Errors.bind(LOOKUP, "ibv_get_device_list",
            FunctionDescriptor.of(ADDRESS, ADDRESS));
    // void ibv_free_device_list(struct ibv_device **list)
    static final MethodHandle FREE_DEVICE_LIST = Errors.bindPlain(LOOKUP, "ibv_free_device_list",
            FunctionDescriptor.ofVoid(ADDRESS));
    // const char *ibv_get_device_name(struct ibv_device *device)
    static final MethodHandle GET_DEVICE_NAME = Errors.bindPlain(LOOKUP, "ibv_get_device_name",
            FunctionDescriptor.of(ADDRESS, ADDRESS));
    // int ibv_query_device(struct ibv_context *context, struct ibv_device_attr *device_attr): returns errno
    static final MethodHandle QUERY_DEVICE = Errors.bindPlain(LOOKUP, "ibv_query_device",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    // struct ibv_pd *ibv_alloc_pd(struct ibv_context *context)
    static final MethodHandle ALLOC_PD = Errors.bind(LOOKUP, "ibv_alloc_pd", FunctionDescriptor.of(ADDRESS, ADDRESS));
    // int ibv_dealloc_pd(struct ibv_pd *pd): returns errno
    static final MethodHandle DEALLOC_PD = Errors.bindPlain(LOOKUP, "ibv_dealloc_pd",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    // struct ibv_mr *ibv_reg_mr(struct ibv_pd *pd, void *addr, size_t length, int access): the exported symbol,
    // which verbs.h's ibv_reg_mr macro reaches for every access mask without IBV_ACCESS_OPTIONAL_RANGE.
    static final MethodHandle REG_MR = Errors.bind(LOOKUP, "ibv_reg_mr",
            FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT));
    // int ibv_dereg_mr(struct ibv_mr *mr): returns errno
    static final MethodHandle DEREG_MR = Errors.bindPlain(LOOKUP, "ibv_dereg_mr",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    // struct ibv_comp_channel *ibv_create_comp_channel(struct ibv_context *context)
    static final MethodHandle CREATE_COMP_CHANNEL = Errors.bind(LOOKUP, "ibv_create_comp_channel",
            FunctionDescriptor.of(ADDRESS, ADDRESS));
    // int ibv_destroy_comp_channel(struct ibv_comp_channel *channel): returns errno
    static final MethodHandle DESTROY_COMP_CHANNEL = Errors.bindPlain(LOOKUP, "ibv_destroy_comp_channel",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    // struct ibv_cq *ibv_create_cq(struct ibv_context *, int cqe, void *cq_context, struct ibv_comp_channel *,
    //                              int comp_vector)
    static final MethodHandle CREATE_CQ = Errors.bind(LOOKUP, "ibv_create_cq",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    // int ibv_destroy_cq(struct ibv_cq *cq): returns errno
    static final MethodHandle DESTROY_CQ = Errors.bindPlain(LOOKUP, "ibv_destroy_cq",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    // int ibv_get_cq_event(struct ibv_comp_channel *, struct ibv_cq **cq, void **cq_context): -1 and errno
    static final MethodHandle GET_CQ_EVENT = Errors.bind(LOOKUP, "ibv_get_cq_event",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    // void ibv_ack_cq_events(struct ibv_cq *cq, unsigned int nevents)
    static final MethodHandle ACK_CQ_EVENTS = Errors.bindPlain(LOOKUP, "ibv_ack_cq_events",
            FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT));
    // int ibv_modify_qp(struct ibv_qp *qp, struct ibv_qp_attr *attr, int attr_mask): returns errno
    static final MethodHandle MODIFY_QP = Errors.bindPlain(LOOKUP, "ibv_modify_qp",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    // int ibv_query_qp(struct ibv_qp *, struct ibv_qp_attr *, int attr_mask, struct ibv_qp_init_attr *)
    static final MethodHandle QUERY_QP = Errors.bindPlain(LOOKUP, "ibv_query_qp",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS));
    // int ibv_get_async_event(struct ibv_context *context, struct ibv_async_event *event): -1 and errno
    static final MethodHandle GET_ASYNC_EVENT = Errors.bind(LOOKUP, "ibv_get_async_event",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    // void ibv_ack_async_event(struct ibv_async_event *event)
    static final MethodHandle ACK_ASYNC_EVENT = Errors.bindPlain(LOOKUP, "ibv_ack_async_event",
            FunctionDescriptor.ofVoid(ADDRESS));

    // Through ibv_context.ops (verbs.h: "static inline int ibv_post_send(...) { return qp->context->ops.post_send
    // (qp, wr, bad_wr); }"): the first argument is the function pointer.
    // int (*post_send)(struct ibv_qp *qp, struct ibv_send_wr *wr, struct ibv_send_wr **bad_wr)
    static final MethodHandle POST_SEND = LINKER.downcallHandle(
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    // int (*post_recv)(struct ibv_qp *qp, struct ibv_recv_wr *wr, struct ibv_recv_wr **bad_wr)
    static final MethodHandle POST_RECV = LINKER.downcallHandle(
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    // int (*poll_cq)(struct ibv_cq *cq, int num_entries, struct ibv_wc *wc): never blocks, so a critical downcall
    // (no thread-state transition) is allowed and saves most of the call overhead on the completion path.
    static final MethodHandle POLL_CQ = LINKER.downcallHandle(
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS), Linker.Option.critical(false));
    // int (*req_notify_cq)(struct ibv_cq *cq, int solicited_only)
    static final MethodHandle REQ_NOTIFY_CQ = LINKER.downcallHandle(
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    // int (*query_device_ex)(struct ibv_context *, const struct ibv_query_device_ex_input *,
    //                        struct ibv_device_attr_ex *, size_t attr_size), from struct verbs_context
    static final MethodHandle QUERY_DEVICE_EX = LINKER.downcallHandle(
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));

    /** {@code struct ibv_async_event}: a 8-byte union of object pointers, then {@code enum ibv_event_type}. */
    static final long ASYNC_EVENT_SIZE = 16;

    private Ibv() {
    }

    /**
     * Reads a NUL-terminated string returned by libibverbs.
     *
     * @param string the pointer
     * @return the Java string
     */
    static String string(MemorySegment string) {
        return string.reinterpret(256).getString(0);
    }
}
