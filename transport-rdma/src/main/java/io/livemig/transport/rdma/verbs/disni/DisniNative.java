package io.livemig.transport.rdma.verbs.disni;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * What DiSNI 2.1 lacks, called on the same rdma-core objects DiSNI created (its {@code NatObject.getObjId()} is the C
 * pointer): five calls and two struct reads, no more. Everything else the provider does goes through DiSNI.
 * <ul>
 * <li>The descriptors: {@code IbvCompChannel.getFd()} and {@code RdmaEventChannel.getFd()} return 0. The real fd is
 * the first field of {@code struct rdma_event_channel} and follows the context pointer in
 * {@code struct ibv_comp_channel}; both are ABI-stable since rdma-core's first release.</li>
 * <li>{@code ibv_get_cq_event} and {@code ibv_ack_cq_events}: DiSNI's {@code getCqEvent} discards which queue fired
 * (the SPI names it) and so cannot acknowledge the right one, without which {@code ibv_destroy_cq} blocks.</li>
 * <li>{@code ibv_modify_qp} to ERR and {@code ibv_query_qp}: DiSNI's {@code modifyQP} passes an uninitialised
 * attribute (a stub), and {@code IbvQP.getState()} is a field nobody updates.</li>
 * <li>{@code rdma_set_option(RDMA_OPTION_ID_ACK_TIMEOUT)}: DiSNI has no QP timeout control; slow links (rxe under
 * emulation) need one.</li>
 * </ul>
 */
// reinterpret() of the pointers DiSNI hands out is restricted; native access is enabled for the JVM.
@SuppressWarnings("restricted")
final class DisniNative {

    /** {@code enum ibv_qp_state} IBV_QPS_ERR. */
    static final int IBV_QPS_ERR = 6;
    /** {@code IBV_QP_STATE}, the attribute mask bit. */
    private static final int IBV_QP_STATE = 1;
    /** {@code RDMA_OPTION_ID}, {@code RDMA_OPTION_ID_ACK_TIMEOUT} (rdma_cma.h). */
    private static final int RDMA_OPTION_ID = 0;
    private static final int RDMA_OPTION_ID_ACK_TIMEOUT = 3;
    /** Larger than {@code struct ibv_qp_attr} (144 bytes) and {@code struct ibv_qp_init_attr} (64) of rdma-core. */
    private static final long QP_ATTR_BYTES = 512;
    private static final long COMP_CHANNEL_FD_OFFSET = ADDRESS.byteSize();

    private static final MethodHandle GET_CQ_EVENT;
    private static final MethodHandle ACK_CQ_EVENTS;
    private static final MethodHandle MODIFY_QP;
    private static final MethodHandle QUERY_QP;
    private static final MethodHandle SET_OPTION;

    static {
        Linker linker = Linker.nativeLinker();
        SymbolLookup ibv = SymbolLookup.libraryLookup("libibverbs.so.1", Arena.global());
        SymbolLookup cm = SymbolLookup.libraryLookup("librdmacm.so.1", Arena.global());
        GET_CQ_EVENT = linker.downcallHandle(ibv.findOrThrow("ibv_get_cq_event"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        ACK_CQ_EVENTS = linker.downcallHandle(ibv.findOrThrow("ibv_ack_cq_events"),
                FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT));
        MODIFY_QP = linker.downcallHandle(ibv.findOrThrow("ibv_modify_qp"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        QUERY_QP = linker.downcallHandle(ibv.findOrThrow("ibv_query_qp"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS));
        SET_OPTION = linker.downcallHandle(cm.findOrThrow("rdma_set_option"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG));
    }

    private DisniNative() {
    }

    /** The fd of a {@code struct rdma_event_channel}: its first field. */
    static int eventChannelFd(long channel) {
        return MemorySegment.ofAddress(channel).reinterpret(JAVA_INT.byteSize()).get(JAVA_INT, 0);
    }

    /** The fd of a {@code struct ibv_comp_channel { struct ibv_context *context; int fd; int refcnt; }}. */
    static int completionChannelFd(long channel) {
        return MemorySegment.ofAddress(channel).reinterpret(COMP_CHANNEL_FD_OFFSET + JAVA_INT.byteSize())
                .get(JAVA_INT, COMP_CHANNEL_FD_OFFSET);
    }

    /**
     * Takes one event from a completion channel whose fd is readable and acknowledges it at once.
     *
     * @return the {@code ibv_cq} pointer that fired, or 0 when none was pending
     */
    static long takeCqEvent(long channel) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cqOut = arena.allocate(ADDRESS);
            MemorySegment contextOut = arena.allocate(ADDRESS);
            if ((int) GET_CQ_EVENT.invokeExact(MemorySegment.ofAddress(channel), cqOut, contextOut) != 0) {
                return 0;
            }
            MemorySegment cq = cqOut.get(ADDRESS, 0);
            ACK_CQ_EVENTS.invokeExact(cq, 1);
            return cq.address();
        } catch (Throwable t) {
            throw new IllegalStateException("ibv_get_cq_event", t);
        }
    }

    /** {@code ibv_modify_qp(qp, {qp_state = ERR}, IBV_QP_STATE)}; returns the errno, 0 on success. */
    static int moveToError(long qp) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(QP_ATTR_BYTES);
            attr.set(JAVA_INT, 0, IBV_QPS_ERR);
            return (int) MODIFY_QP.invokeExact(MemorySegment.ofAddress(qp), attr, IBV_QP_STATE);
        } catch (Throwable t) {
            throw new IllegalStateException("ibv_modify_qp", t);
        }
    }

    /** {@code ibv_query_qp(qp, IBV_QP_STATE)}: the {@code enum ibv_qp_state} value, or -1 when the query failed. */
    static int queryState(long qp) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(QP_ATTR_BYTES);
            MemorySegment init = arena.allocate(QP_ATTR_BYTES);
            if ((int) QUERY_QP.invokeExact(MemorySegment.ofAddress(qp), attr, IBV_QP_STATE, init) != 0) {
                return -1;
            }
            return attr.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw new IllegalStateException("ibv_query_qp", t);
        }
    }

    /** {@code rdma_set_option(id, RDMA_OPTION_ID, RDMA_OPTION_ID_ACK_TIMEOUT, &exponent, 1)}. */
    static void setAckTimeout(long id, int exponent) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(JAVA_BYTE);
            value.set(JAVA_BYTE, 0, (byte) exponent);
            int ignored = (int) SET_OPTION.invokeExact(MemorySegment.ofAddress(id), RDMA_OPTION_ID,
                    RDMA_OPTION_ID_ACK_TIMEOUT, value, 1L);
        } catch (Throwable t) {
            throw new IllegalStateException("rdma_set_option", t);
        }
    }
}
