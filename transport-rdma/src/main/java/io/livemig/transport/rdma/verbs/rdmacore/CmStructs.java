package io.livemig.transport.rdma.verbs.rdmacore;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;

/**
 * The librdmacm structs ({@code rdma/rdma_cma.h}) and socket addresses ({@code netinet/in.h}) this provider uses,
 * declared once with explicit padding; {@code LayoutAbiTest} checks them against the installed headers.
 */
final class CmStructs {

    /** {@code struct sockaddr_storage}: 128 bytes on Linux. */
    static final long SOCKADDR_STORAGE_SIZE = 128;

    /** {@code struct sockaddr_in}; port and address are in network byte order. */
    static final StructLayout SOCKADDR_IN = structLayout(
            JAVA_SHORT.withName("sin_family"),
            JAVA_SHORT.withName("sin_port"),
            sequenceLayout(4, JAVA_BYTE).withName("sin_addr"),
            paddingLayout(8)).withName("sockaddr_in");

    /** {@code struct sockaddr_in6}. */
    static final StructLayout SOCKADDR_IN6 = structLayout(
            JAVA_SHORT.withName("sin6_family"),
            JAVA_SHORT.withName("sin6_port"),
            JAVA_INT.withName("sin6_flowinfo"),
            sequenceLayout(16, JAVA_BYTE).withName("sin6_addr"),
            JAVA_INT.withName("sin6_scope_id")).withName("sockaddr_in6");

    /** {@code struct rdma_event_channel}. */
    static final StructLayout RDMA_EVENT_CHANNEL = structLayout(JAVA_INT.withName("fd")).withName("rdma_event_channel");

    /**
     * {@code struct rdma_cm_id}: the device, the queue pair and the two addresses of {@code route.addr}
     * ({@code rdma_get_local_addr}/{@code rdma_get_peer_addr} are static inline and read these).
     */
    static final StructLayout RDMA_CM_ID = structLayout(
            ADDRESS.withName("verbs"),
            ADDRESS.withName("channel"),
            ADDRESS.withName("context"),
            ADDRESS.withName("qp"),
            sequenceLayout(SOCKADDR_STORAGE_SIZE, JAVA_BYTE).withName("route.addr.src_addr"),
            sequenceLayout(SOCKADDR_STORAGE_SIZE, JAVA_BYTE).withName("route.addr.dst_addr"),
            paddingLayout(344 - 288),
            JAVA_INT.withName("ps"),
            paddingLayout(416 - 348)).withName("rdma_cm_id");

    /** {@code struct rdma_conn_param}. */
    static final StructLayout RDMA_CONN_PARAM = structLayout(
            ADDRESS.withName("private_data"),
            JAVA_BYTE.withName("private_data_len"),
            JAVA_BYTE.withName("responder_resources"),
            JAVA_BYTE.withName("initiator_depth"),
            JAVA_BYTE.withName("flow_control"),
            JAVA_BYTE.withName("retry_count"),
            JAVA_BYTE.withName("rnr_retry_count"),
            JAVA_BYTE.withName("srq"),
            paddingLayout(1),
            JAVA_INT.withName("qp_num"),
            paddingLayout(4)).withName("rdma_conn_param");

    /** {@code struct rdma_cm_event}; of the {@code param} union only {@code conn} is used (RC, not UD). */
    static final StructLayout RDMA_CM_EVENT = structLayout(
            ADDRESS.withName("id"),
            ADDRESS.withName("listen_id"),
            JAVA_INT.withName("event"),
            JAVA_INT.withName("status"),
            RDMA_CONN_PARAM.withName("param.conn"),
            paddingLayout(80 - 48)).withName("rdma_cm_event");

    static final long CM_ID_SRC_ADDR = RDMA_CM_ID.byteOffset(groupElement("route.addr.src_addr"));
    static final long CM_ID_DST_ADDR = RDMA_CM_ID.byteOffset(groupElement("route.addr.dst_addr"));
    static final VarHandle CM_ID_VERBS = RDMA_CM_ID.varHandle(groupElement("verbs"));
    static final VarHandle CM_ID_QP = RDMA_CM_ID.varHandle(groupElement("qp"));
    static final VarHandle CHANNEL_FD = RDMA_EVENT_CHANNEL.varHandle(groupElement("fd"));

    static final VarHandle EVENT_ID = RDMA_CM_EVENT.varHandle(groupElement("id"));
    static final VarHandle EVENT_LISTEN_ID = RDMA_CM_EVENT.varHandle(groupElement("listen_id"));
    static final VarHandle EVENT_TYPE = RDMA_CM_EVENT.varHandle(groupElement("event"));
    static final VarHandle EVENT_STATUS = RDMA_CM_EVENT.varHandle(groupElement("status"));
    static final VarHandle EVENT_PRIVATE_DATA = RDMA_CM_EVENT.varHandle(groupElement("param.conn"),
            groupElement("private_data"));
    static final VarHandle EVENT_PRIVATE_DATA_LEN = RDMA_CM_EVENT.varHandle(groupElement("param.conn"),
            groupElement("private_data_len"));

    static final VarHandle PARAM_PRIVATE_DATA = RDMA_CONN_PARAM.varHandle(groupElement("private_data"));
    static final VarHandle PARAM_PRIVATE_DATA_LEN = RDMA_CONN_PARAM.varHandle(groupElement("private_data_len"));
    static final VarHandle PARAM_RESPONDER_RESOURCES = RDMA_CONN_PARAM.varHandle(
            groupElement("responder_resources"));
    static final VarHandle PARAM_INITIATOR_DEPTH = RDMA_CONN_PARAM.varHandle(groupElement("initiator_depth"));
    static final VarHandle PARAM_RETRY_COUNT = RDMA_CONN_PARAM.varHandle(groupElement("retry_count"));
    static final VarHandle PARAM_RNR_RETRY_COUNT = RDMA_CONN_PARAM.varHandle(groupElement("rnr_retry_count"));

    static final VarHandle SIN_FAMILY = SOCKADDR_IN.varHandle(groupElement("sin_family"));
    static final VarHandle SIN_PORT = SOCKADDR_IN.varHandle(groupElement("sin_port"));
    static final long SIN_ADDR = SOCKADDR_IN.byteOffset(groupElement("sin_addr"));
    static final VarHandle SIN6_FAMILY = SOCKADDR_IN6.varHandle(groupElement("sin6_family"));
    static final VarHandle SIN6_PORT = SOCKADDR_IN6.varHandle(groupElement("sin6_port"));
    static final long SIN6_ADDR = SOCKADDR_IN6.byteOffset(groupElement("sin6_addr"));
    static final VarHandle SIN6_SCOPE_ID = SOCKADDR_IN6.varHandle(groupElement("sin6_scope_id"));

    /** {@code AF_INET} and {@code AF_INET6} on Linux. */
    static final int AF_INET = 2;
    static final int AF_INET6 = 10;
    /** {@code RDMA_PS_TCP}: reliable-connected, the port space QEMU uses. */
    static final int RDMA_PS_TCP = 0x0106;
    /** {@code RDMA_OPTION_ID}, the option level of {@code rdma_set_option}. */
    static final int RDMA_OPTION_ID = 0;
    /** {@code RDMA_OPTION_ID_ACK_TIMEOUT} (uint8_t): the QP's local ACK timeout exponent. */
    static final int RDMA_OPTION_ID_ACK_TIMEOUT = 3;

    private CmStructs() {
    }
}
