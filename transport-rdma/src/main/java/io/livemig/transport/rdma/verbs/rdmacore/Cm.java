package io.livemig.transport.rdma.verbs.rdmacore;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * The librdmacm functions this provider calls, bound once from {@code librdmacm.so.1} (package {@code librdmacm1}).
 * As {@code man rdma_cm} says, they return 0 on success and -1 with errno set on failure, so every handle captures
 * errno (see {@link Errors}).
 */
@SuppressWarnings("restricted")
final class Cm {

    /** The soname loaded. */
    static final String LIBRARY = "librdmacm.so.1";

    private static final SymbolLookup LOOKUP = SymbolLookup.libraryLookup(LIBRARY, Arena.global());

    // struct ibv_context **rdma_get_devices(int *num_devices)
    static final MethodHandle GET_DEVICES = Errors.bind(LOOKUP, "rdma_get_devices",
            FunctionDescriptor.of(ADDRESS, ADDRESS));
    // void rdma_free_devices(struct ibv_context **list)
    static final MethodHandle FREE_DEVICES = Errors.bindPlain(LOOKUP, "rdma_free_devices",
            FunctionDescriptor.ofVoid(ADDRESS));
    // struct rdma_event_channel *rdma_create_event_channel(void)
    static final MethodHandle CREATE_EVENT_CHANNEL = Errors.bind(LOOKUP, "rdma_create_event_channel",
            FunctionDescriptor.of(ADDRESS));
    // void rdma_destroy_event_channel(struct rdma_event_channel *channel)
    static final MethodHandle DESTROY_EVENT_CHANNEL = Errors.bindPlain(LOOKUP, "rdma_destroy_event_channel",
            FunctionDescriptor.ofVoid(ADDRESS));
    // int rdma_create_id(struct rdma_event_channel *, struct rdma_cm_id **id, void *context, enum rdma_port_space)
    static final MethodHandle CREATE_ID = Errors.bind(LOOKUP, "rdma_create_id",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT));
    // int rdma_destroy_id(struct rdma_cm_id *id)
    static final MethodHandle DESTROY_ID = Errors.bind(LOOKUP, "rdma_destroy_id",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    // int rdma_bind_addr(struct rdma_cm_id *id, struct sockaddr *addr)
    static final MethodHandle BIND_ADDR = Errors.bind(LOOKUP, "rdma_bind_addr",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    // int rdma_listen(struct rdma_cm_id *id, int backlog)
    static final MethodHandle LISTEN = Errors.bind(LOOKUP, "rdma_listen",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    // int rdma_resolve_addr(struct rdma_cm_id *, struct sockaddr *src, struct sockaddr *dst, int timeout_ms)
    static final MethodHandle RESOLVE_ADDR = Errors.bind(LOOKUP, "rdma_resolve_addr",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT));
    // int rdma_resolve_route(struct rdma_cm_id *id, int timeout_ms)
    static final MethodHandle RESOLVE_ROUTE = Errors.bind(LOOKUP, "rdma_resolve_route",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    // int rdma_create_qp(struct rdma_cm_id *id, struct ibv_pd *pd, struct ibv_qp_init_attr *qp_init_attr)
    static final MethodHandle CREATE_QP = Errors.bind(LOOKUP, "rdma_create_qp",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    // void rdma_destroy_qp(struct rdma_cm_id *id)
    static final MethodHandle DESTROY_QP = Errors.bindPlain(LOOKUP, "rdma_destroy_qp",
            FunctionDescriptor.ofVoid(ADDRESS));
    // int rdma_connect(struct rdma_cm_id *id, struct rdma_conn_param *conn_param)
    static final MethodHandle CONNECT = Errors.bind(LOOKUP, "rdma_connect",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    // int rdma_accept(struct rdma_cm_id *id, struct rdma_conn_param *conn_param)
    static final MethodHandle ACCEPT = Errors.bind(LOOKUP, "rdma_accept",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    // int rdma_reject(struct rdma_cm_id *id, const void *private_data, uint8_t private_data_len)
    static final MethodHandle REJECT = Errors.bind(LOOKUP, "rdma_reject",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_BYTE));
    // int rdma_disconnect(struct rdma_cm_id *id)
    static final MethodHandle DISCONNECT = Errors.bind(LOOKUP, "rdma_disconnect",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    // int rdma_get_cm_event(struct rdma_event_channel *channel, struct rdma_cm_event **event)
    static final MethodHandle GET_CM_EVENT = Errors.bind(LOOKUP, "rdma_get_cm_event",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    // int rdma_ack_cm_event(struct rdma_cm_event *event)
    static final MethodHandle ACK_CM_EVENT = Errors.bind(LOOKUP, "rdma_ack_cm_event",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    // int rdma_set_option(struct rdma_cm_id *id, int level, int optname, void *optval, size_t optlen)
    static final MethodHandle SET_OPTION = Errors.bind(LOOKUP, "rdma_set_option",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG));

    private Cm() {
    }
}
