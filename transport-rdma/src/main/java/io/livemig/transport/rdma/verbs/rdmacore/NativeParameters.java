package io.livemig.transport.rdma.verbs.rdmacore;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import io.livemig.transport.rdma.verbs.ConnectionParameters;
import io.livemig.transport.rdma.verbs.DeviceAttributes;
import io.livemig.transport.rdma.verbs.QpInitAttributes;
import io.livemig.transport.rdma.verbs.VerbsException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The SPI's parameter records written as the C structs {@code rdma_create_qp}, {@code rdma_connect},
 * {@code rdma_accept} and {@code rdma_reject} take. librdmacm copies them into its command to the kernel before
 * returning, so the structs live in the caller's scratch arena.
 */
final class NativeParameters {

    private NativeParameters() {
    }

    /**
     * Refuses depths and SGE counts beyond {@code ibv_query_device}'s limits with the numbers, rather than the bare
     * EINVAL {@code rdma_create_qp} would return.
     *
     * @param attributes the requested attributes
     * @param device the device
     * @throws VerbsException when a limit is exceeded
     */
    static void checkLimits(QpInitAttributes attributes, RdmaCoreDevice device) throws VerbsException {
        DeviceAttributes limits = device.attributes();
        int deepest = Math.max(attributes.maxSendWr(), attributes.maxReceiveWr());
        int widest = Math.max(attributes.maxSendSge(), attributes.maxReceiveSge());
        if (deepest > limits.maxQpWr() || widest > limits.maxSge()) {
            throw new VerbsException("rdma_create_qp: attributes exceed the limits of " + device.name()
                    + ": max_send_wr " + attributes.maxSendWr() + ", max_recv_wr " + attributes.maxReceiveWr()
                    + " (max_qp_wr " + limits.maxQpWr() + "), max_send_sge " + attributes.maxSendSge()
                    + ", max_recv_sge " + attributes.maxReceiveSge() + " (max_sge " + limits.maxSge() + ")");
        }
    }

    /**
     * A {@code struct ibv_qp_init_attr} for a reliable-connected queue pair.
     *
     * @param attributes the SPI attributes
     * @param sendCq the send completion queue
     * @param receiveCq the receive completion queue
     * @param arena scratch memory
     * @return the struct
     */
    static MemorySegment qpInitAttr(QpInitAttributes attributes, RdmaCoreCompletionQueue sendCq,
                                    RdmaCoreCompletionQueue receiveCq, Arena arena) {
        MemorySegment init = arena.allocate(VerbsStructs.IBV_QP_INIT_ATTR);
        VerbsStructs.INIT_SEND_CQ.set(init, 0L, sendCq.pointer());
        VerbsStructs.INIT_RECV_CQ.set(init, 0L, receiveCq.pointer());
        VerbsStructs.INIT_MAX_SEND_WR.set(init, 0L, attributes.maxSendWr());
        VerbsStructs.INIT_MAX_RECV_WR.set(init, 0L, attributes.maxReceiveWr());
        VerbsStructs.INIT_MAX_SEND_SGE.set(init, 0L, attributes.maxSendSge());
        VerbsStructs.INIT_MAX_RECV_SGE.set(init, 0L, attributes.maxReceiveSge());
        VerbsStructs.INIT_MAX_INLINE.set(init, 0L, attributes.maxInlineData());
        VerbsStructs.INIT_QP_TYPE.set(init, 0L, VerbsStructs.IBV_QPT_RC);
        VerbsStructs.INIT_SQ_SIG_ALL.set(init, 0L, attributes.signalAll() ? 1 : 0);
        return init;
    }

    /**
     * A {@code struct rdma_conn_param}. {@code flow_control}, {@code srq} and {@code qp_num} stay 0: they are
     * ignored when the identifier has a queue pair (rdma_cma.h).
     *
     * @param parameters the SPI parameters
     * @param arena scratch memory
     * @return the struct
     */
    static MemorySegment connParam(ConnectionParameters parameters, Arena arena) {
        byte[] data = parameters.privateData();
        MemorySegment param = arena.allocate(CmStructs.RDMA_CONN_PARAM);
        CmStructs.PARAM_PRIVATE_DATA.set(param, 0L, bytes(data, arena));
        CmStructs.PARAM_PRIVATE_DATA_LEN.set(param, 0L, (byte) data.length);
        CmStructs.PARAM_RESPONDER_RESOURCES.set(param, 0L, (byte) parameters.responderResources());
        CmStructs.PARAM_INITIATOR_DEPTH.set(param, 0L, (byte) parameters.initiatorDepth());
        CmStructs.PARAM_RETRY_COUNT.set(param, 0L, (byte) parameters.retryCount());
        CmStructs.PARAM_RNR_RETRY_COUNT.set(param, 0L, (byte) parameters.rnrRetryCount());
        return param;
    }

    /**
     * Private data in native memory.
     *
     * @param data the bytes
     * @param arena scratch memory
     * @return the copy, or {@code NULL} for no data
     */
    static MemorySegment bytes(byte[] data, Arena arena) {
        if (data.length == 0) {
            return MemorySegment.NULL;
        }
        MemorySegment copy = arena.allocate(data.length);
        MemorySegment.copy(data, 0, copy, JAVA_BYTE, 0, data.length);
        return copy;
    }
}
