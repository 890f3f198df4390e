package io.livemig.transport.rdma.verbs.rdmacore;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;

/**
 * The libibverbs structs this provider reads or writes, each declared once, as in {@code infiniband/verbs.h} of
 * rdma-core (the stable {@code IBVERBS_1.1} ABI, x86-64 and aarch64 LP64). Only the fields the provider touches are
 * named; the rest is explicit padding, so {@code LayoutAbiTest} can check every named offset and every size
 * against the installed headers.
 */
final class VerbsStructs {

    /** {@code pthread_mutex_t} and {@code pthread_cond_t} sizes on LP64 glibc: opaque here. */
    private static final long MUTEX = 40;
    private static final long COND = 48;

    /** {@code struct ibv_sge}. */
    static final StructLayout IBV_SGE = structLayout(
            JAVA_LONG.withName("addr"), JAVA_INT.withName("length"), JAVA_INT.withName("lkey")).withName("ibv_sge");

    /**
     * {@code struct ibv_send_wr}; of the {@code wr} union only {@code wr.rdma} is named, the atomic/UD members and
     * the trailing {@code qp_type}/{@code bind_mw}/{@code tso} unions are padding.
     */
    static final StructLayout IBV_SEND_WR = structLayout(
            JAVA_LONG.withName("wr_id"),
            ADDRESS.withName("next"),
            ADDRESS.withName("sg_list"),
            JAVA_INT.withName("num_sge"),
            JAVA_INT.withName("opcode"),
            JAVA_INT.withName("send_flags"),
            JAVA_INT.withName("imm_data"),
            JAVA_LONG.withName("wr.rdma.remote_addr"),
            JAVA_INT.withName("wr.rdma.rkey"),
            paddingLayout(76)).withName("ibv_send_wr");

    /** {@code struct ibv_recv_wr}. */
    static final StructLayout IBV_RECV_WR = structLayout(
            JAVA_LONG.withName("wr_id"),
            ADDRESS.withName("next"),
            ADDRESS.withName("sg_list"),
            JAVA_INT.withName("num_sge"),
            paddingLayout(4)).withName("ibv_recv_wr");

    /** {@code struct ibv_wc}. */
    static final StructLayout IBV_WC = structLayout(
            JAVA_LONG.withName("wr_id"),
            JAVA_INT.withName("status"),
            JAVA_INT.withName("opcode"),
            JAVA_INT.withName("vendor_err"),
            JAVA_INT.withName("byte_len"),
            JAVA_INT.withName("imm_data"),
            JAVA_INT.withName("qp_num"),
            JAVA_INT.withName("src_qp"),
            JAVA_INT.withName("wc_flags"),
            JAVA_SHORT.withName("pkey_index"),
            JAVA_SHORT.withName("slid"),
            JAVA_BYTE.withName("sl"),
            JAVA_BYTE.withName("dlid_path_bits"),
            paddingLayout(2)).withName("ibv_wc");

    /** {@code struct ibv_qp_cap}. */
    static final StructLayout IBV_QP_CAP = structLayout(
            JAVA_INT.withName("max_send_wr"),
            JAVA_INT.withName("max_recv_wr"),
            JAVA_INT.withName("max_send_sge"),
            JAVA_INT.withName("max_recv_sge"),
            JAVA_INT.withName("max_inline_data")).withName("ibv_qp_cap");

    /** {@code struct ibv_qp_init_attr}. */
    static final StructLayout IBV_QP_INIT_ATTR = structLayout(
            ADDRESS.withName("qp_context"),
            ADDRESS.withName("send_cq"),
            ADDRESS.withName("recv_cq"),
            ADDRESS.withName("srq"),
            IBV_QP_CAP.withName("cap"),
            JAVA_INT.withName("qp_type"),
            JAVA_INT.withName("sq_sig_all"),
            paddingLayout(4)).withName("ibv_qp_init_attr");

    /**
     * {@code struct ibv_context_ops}: 32 function pointers. The data-path verbs ({@code ibv_post_send},
     * {@code ibv_post_recv}, {@code ibv_poll_cq}, {@code ibv_req_notify_cq}) are static inline in verbs.h and call
     * through these four; the rest is legacy ({@code _compat_*}) or unused here.
     */
    static final StructLayout IBV_CONTEXT_OPS = structLayout(
            paddingLayout(11 * 8),
            ADDRESS.withName("poll_cq"),
            ADDRESS.withName("req_notify_cq"),
            paddingLayout(12 * 8),
            ADDRESS.withName("post_send"),
            ADDRESS.withName("post_recv"),
            paddingLayout(5 * 8)).withName("ibv_context_ops");

    /** {@code struct ibv_context}. */
    static final StructLayout IBV_CONTEXT = structLayout(
            ADDRESS.withName("device"),
            IBV_CONTEXT_OPS.withName("ops"),
            JAVA_INT.withName("cmd_fd"),
            JAVA_INT.withName("async_fd"),
            JAVA_INT.withName("num_comp_vectors"),
            paddingLayout(4),
            paddingLayout(MUTEX),
            ADDRESS.withName("abi_compat")).withName("ibv_context");

    /**
     * The tail of {@code struct verbs_context}, which libibverbs places immediately before the
     * {@code struct ibv_context} it hands out (verbs.h: "Must be immediately before struct ibv_context"). Its
     * {@code query_device_ex} is how the inline {@code ibv_query_device_ex} reaches the ODP capabilities.
     */
    static final StructLayout VERBS_CONTEXT_TAIL = structLayout(
            ADDRESS.withName("query_device_ex"),
            paddingLayout(10 * 8),
            JAVA_LONG.withName("_ABI_placeholder3"),
            JAVA_LONG.withName("sz")).withName("verbs_context_tail");

    /** {@code struct ibv_device_attr}: the limits {@link io.livemig.transport.rdma.verbs.DeviceAttributes} keeps. */
    static final StructLayout IBV_DEVICE_ATTR = structLayout(
            paddingLayout(64),
            JAVA_LONG.withName("node_guid"),
            JAVA_LONG.withName("sys_image_guid"),
            JAVA_LONG.withName("max_mr_size"),
            JAVA_LONG.withName("page_size_cap"),
            JAVA_INT.withName("vendor_id"),
            JAVA_INT.withName("vendor_part_id"),
            JAVA_INT.withName("hw_ver"),
            JAVA_INT.withName("max_qp"),
            JAVA_INT.withName("max_qp_wr"),
            JAVA_INT.withName("device_cap_flags"),
            JAVA_INT.withName("max_sge"),
            JAVA_INT.withName("max_sge_rd"),
            JAVA_INT.withName("max_cq"),
            JAVA_INT.withName("max_cqe"),
            JAVA_INT.withName("max_mr"),
            JAVA_INT.withName("max_pd"),
            JAVA_INT.withName("max_qp_rd_atom"),
            JAVA_INT.withName("max_ee_rd_atom"),
            JAVA_INT.withName("max_res_rd_atom"),
            JAVA_INT.withName("max_qp_init_rd_atom"),
            paddingLayout(232 - 160)).withName("ibv_device_attr");

    /** {@code struct ibv_device_attr_ex}: the legacy attributes, then {@code odp_caps}; the rest is padding. */
    static final StructLayout IBV_DEVICE_ATTR_EX = structLayout(
            IBV_DEVICE_ATTR.withName("orig_attr"),
            JAVA_INT.withName("comp_mask"),
            paddingLayout(4),
            JAVA_LONG.withName("odp_caps.general_caps"),
            JAVA_INT.withName("odp_caps.per_transport_caps.rc_odp_caps"),
            paddingLayout(400 - 252)).withName("ibv_device_attr_ex");

    /** {@code struct ibv_comp_channel}. */
    static final StructLayout IBV_COMP_CHANNEL = structLayout(
            ADDRESS.withName("context"), JAVA_INT.withName("fd"), JAVA_INT.withName("refcnt"))
            .withName("ibv_comp_channel");

    /** {@code struct ibv_cq}. */
    static final StructLayout IBV_CQ = structLayout(
            ADDRESS.withName("context"),
            ADDRESS.withName("channel"),
            ADDRESS.withName("cq_context"),
            JAVA_INT.withName("handle"),
            JAVA_INT.withName("cqe"),
            paddingLayout(MUTEX + COND + 8)).withName("ibv_cq");

    /** {@code struct ibv_qp}. */
    static final StructLayout IBV_QP = structLayout(
            ADDRESS.withName("context"),
            ADDRESS.withName("qp_context"),
            ADDRESS.withName("pd"),
            ADDRESS.withName("send_cq"),
            ADDRESS.withName("recv_cq"),
            ADDRESS.withName("srq"),
            JAVA_INT.withName("handle"),
            JAVA_INT.withName("qp_num"),
            JAVA_INT.withName("state"),
            JAVA_INT.withName("qp_type"),
            paddingLayout(MUTEX + COND + 8)).withName("ibv_qp");

    /** {@code struct ibv_mr}. */
    static final StructLayout IBV_MR = structLayout(
            ADDRESS.withName("context"),
            ADDRESS.withName("pd"),
            ADDRESS.withName("addr"),
            JAVA_LONG.withName("length"),
            JAVA_INT.withName("handle"),
            JAVA_INT.withName("lkey"),
            JAVA_INT.withName("rkey"),
            paddingLayout(4)).withName("ibv_mr");

    /** {@code struct ibv_qp_attr}: only {@code qp_state} is used (with {@code IBV_QP_STATE}). */
    static final StructLayout IBV_QP_ATTR = structLayout(
            JAVA_INT.withName("qp_state"),
            JAVA_INT.withName("cur_qp_state"),
            paddingLayout(144 - 8)).withName("ibv_qp_attr");

    // Accessors, derived once (man ibv_post_send, ibv_poll_cq, ibv_create_qp name these fields).
    static final VarHandle SGE_ADDR = IBV_SGE.varHandle(groupElement("addr"));
    static final VarHandle SGE_LENGTH = IBV_SGE.varHandle(groupElement("length"));
    static final VarHandle SGE_LKEY = IBV_SGE.varHandle(groupElement("lkey"));

    static final VarHandle SEND_WR_ID = IBV_SEND_WR.varHandle(groupElement("wr_id"));
    static final VarHandle SEND_NEXT = IBV_SEND_WR.varHandle(groupElement("next"));
    static final VarHandle SEND_SG_LIST = IBV_SEND_WR.varHandle(groupElement("sg_list"));
    static final VarHandle SEND_NUM_SGE = IBV_SEND_WR.varHandle(groupElement("num_sge"));
    static final VarHandle SEND_OPCODE = IBV_SEND_WR.varHandle(groupElement("opcode"));
    static final VarHandle SEND_FLAGS = IBV_SEND_WR.varHandle(groupElement("send_flags"));
    static final VarHandle SEND_IMM_DATA = IBV_SEND_WR.varHandle(groupElement("imm_data"));
    static final VarHandle SEND_REMOTE_ADDR = IBV_SEND_WR.varHandle(groupElement("wr.rdma.remote_addr"));
    static final VarHandle SEND_RKEY = IBV_SEND_WR.varHandle(groupElement("wr.rdma.rkey"));

    static final VarHandle RECV_WR_ID = IBV_RECV_WR.varHandle(groupElement("wr_id"));
    static final VarHandle RECV_NEXT = IBV_RECV_WR.varHandle(groupElement("next"));
    static final VarHandle RECV_SG_LIST = IBV_RECV_WR.varHandle(groupElement("sg_list"));
    static final VarHandle RECV_NUM_SGE = IBV_RECV_WR.varHandle(groupElement("num_sge"));

    static final VarHandle WC_WR_ID = IBV_WC.varHandle(groupElement("wr_id"));
    static final VarHandle WC_STATUS = IBV_WC.varHandle(groupElement("status"));
    static final VarHandle WC_OPCODE = IBV_WC.varHandle(groupElement("opcode"));
    static final VarHandle WC_BYTE_LEN = IBV_WC.varHandle(groupElement("byte_len"));
    static final VarHandle WC_IMM_DATA = IBV_WC.varHandle(groupElement("imm_data"));
    static final VarHandle WC_QP_NUM = IBV_WC.varHandle(groupElement("qp_num"));
    static final VarHandle WC_FLAGS = IBV_WC.varHandle(groupElement("wc_flags"));

    static final VarHandle INIT_SEND_CQ = IBV_QP_INIT_ATTR.varHandle(groupElement("send_cq"));
    static final VarHandle INIT_RECV_CQ = IBV_QP_INIT_ATTR.varHandle(groupElement("recv_cq"));
    static final VarHandle INIT_MAX_SEND_WR = IBV_QP_INIT_ATTR.varHandle(groupElement("cap"),
            groupElement("max_send_wr"));
    static final VarHandle INIT_MAX_RECV_WR = IBV_QP_INIT_ATTR.varHandle(groupElement("cap"),
            groupElement("max_recv_wr"));
    static final VarHandle INIT_MAX_SEND_SGE = IBV_QP_INIT_ATTR.varHandle(groupElement("cap"),
            groupElement("max_send_sge"));
    static final VarHandle INIT_MAX_RECV_SGE = IBV_QP_INIT_ATTR.varHandle(groupElement("cap"),
            groupElement("max_recv_sge"));
    static final VarHandle INIT_MAX_INLINE = IBV_QP_INIT_ATTR.varHandle(groupElement("cap"),
            groupElement("max_inline_data"));
    static final VarHandle INIT_QP_TYPE = IBV_QP_INIT_ATTR.varHandle(groupElement("qp_type"));
    static final VarHandle INIT_SQ_SIG_ALL = IBV_QP_INIT_ATTR.varHandle(groupElement("sq_sig_all"));

    static final VarHandle CONTEXT_DEVICE = IBV_CONTEXT.varHandle(groupElement("device"));
    static final VarHandle CONTEXT_ASYNC_FD = IBV_CONTEXT.varHandle(groupElement("async_fd"));
    static final VarHandle CONTEXT_ABI_COMPAT = IBV_CONTEXT.varHandle(groupElement("abi_compat"));
    static final VarHandle OPS_POLL_CQ = IBV_CONTEXT.varHandle(groupElement("ops"), groupElement("poll_cq"));
    static final VarHandle OPS_REQ_NOTIFY_CQ = IBV_CONTEXT.varHandle(groupElement("ops"),
            groupElement("req_notify_cq"));
    static final VarHandle OPS_POST_SEND = IBV_CONTEXT.varHandle(groupElement("ops"), groupElement("post_send"));
    static final VarHandle OPS_POST_RECV = IBV_CONTEXT.varHandle(groupElement("ops"), groupElement("post_recv"));

    static final VarHandle VCTX_QUERY_DEVICE_EX = VERBS_CONTEXT_TAIL.varHandle(groupElement("query_device_ex"));
    static final VarHandle VCTX_SZ = VERBS_CONTEXT_TAIL.varHandle(groupElement("sz"));

    static final VarHandle ATTR_MAX_MR_SIZE = IBV_DEVICE_ATTR.varHandle(groupElement("max_mr_size"));
    static final VarHandle ATTR_MAX_QP_WR = IBV_DEVICE_ATTR.varHandle(groupElement("max_qp_wr"));
    static final VarHandle ATTR_MAX_SGE = IBV_DEVICE_ATTR.varHandle(groupElement("max_sge"));
    static final VarHandle ATTR_MAX_CQE = IBV_DEVICE_ATTR.varHandle(groupElement("max_cqe"));
    static final VarHandle ATTR_EX_ODP_GENERAL = IBV_DEVICE_ATTR_EX.varHandle(
            groupElement("odp_caps.general_caps"));

    static final VarHandle CHANNEL_FD = IBV_COMP_CHANNEL.varHandle(groupElement("fd"));
    static final VarHandle CQ_CQE = IBV_CQ.varHandle(groupElement("cqe"));
    static final VarHandle QP_QP_NUM = IBV_QP.varHandle(groupElement("qp_num"));
    static final VarHandle MR_LKEY = IBV_MR.varHandle(groupElement("lkey"));
    static final VarHandle MR_RKEY = IBV_MR.varHandle(groupElement("rkey"));
    static final VarHandle QP_ATTR_STATE = IBV_QP_ATTR.varHandle(groupElement("qp_state"));

    // Constants of verbs.h (enum values are part of the ABI).
    /** {@code IBV_QPT_RC}. */
    static final int IBV_QPT_RC = 2;
    /** {@code IBV_SEND_SIGNALED}. */
    static final int IBV_SEND_SIGNALED = 1 << 1;
    /** {@code IBV_SEND_INLINE}. */
    static final int IBV_SEND_INLINE = 1 << 3;
    /** {@code IBV_WC_WITH_IMM}. */
    static final int IBV_WC_WITH_IMM = 1 << 1;
    /** {@code IBV_WC_RECV}: receive opcodes have this bit set. */
    static final int IBV_WC_RECV = 1 << 7;
    /** {@code IBV_WC_RECV_RDMA_WITH_IMM}. */
    static final int IBV_WC_RECV_RDMA_WITH_IMM = IBV_WC_RECV + 1;
    /** {@code IBV_QP_STATE}, the attribute mask bit of {@code ibv_modify_qp}/{@code ibv_query_qp}. */
    static final int IBV_QP_STATE = 1;
    /** {@code IBV_QPS_ERR}. */
    static final int IBV_QPS_ERR = 6;
    /** {@code IBV_ACCESS_ON_DEMAND}: on-demand paging registration. */
    static final int IBV_ACCESS_ON_DEMAND = 1 << 6;
    /** {@code IBV_ODP_SUPPORT} in {@code odp_caps.general_caps}. */
    static final int IBV_ODP_SUPPORT = 1;

    private VerbsStructs() {
    }
}
