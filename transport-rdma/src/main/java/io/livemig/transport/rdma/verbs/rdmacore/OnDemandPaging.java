package io.livemig.transport.rdma.verbs.rdmacore;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The ODP capability query. {@code ibv_query_device_ex} is static inline in verbs.h: it finds
 * {@code query_device_ex} in the {@code struct verbs_context} that libibverbs places just before every
 * {@code struct ibv_context} whose {@code abi_compat} is {@code __VERBS_ABI_IS_EXTENDED} ({@code (void *) -1}),
 * after checking the provider's {@code sz} covers the op ({@code verbs_get_ctx_op}). This class does the same.
 */
final class OnDemandPaging {

    /** {@code __VERBS_ABI_IS_EXTENDED}. */
    private static final long VERBS_ABI_IS_EXTENDED = -1L;

    private OnDemandPaging() {
    }

    /**
     * Whether the device behind {@code context} supports on-demand paging.
     *
     * @param context the {@code struct ibv_context *}
     * @return {@code true} when {@code IBV_ODP_SUPPORT} is set; {@code false} also when the query is unsupported
     */
    @SuppressWarnings("restricted")
    static boolean isSupported(MemorySegment context) {
        MemorySegment compat = (MemorySegment) VerbsStructs.CONTEXT_ABI_COMPAT.get(context, 0L);
        if (compat.address() != VERBS_ABI_IS_EXTENDED) {
            return false;
        }
        long tailSize = VerbsStructs.VERBS_CONTEXT_TAIL.byteSize();
        MemorySegment tail = MemorySegment.ofAddress(context.address() - tailSize).reinterpret(tailSize);
        long sz = (long) VerbsStructs.VCTX_SZ.get(tail, 0L);
        MemorySegment queryDeviceEx = (MemorySegment) VerbsStructs.VCTX_QUERY_DEVICE_EX.get(tail, 0L);
        // verbs_get_ctx_op: sz must reach from the op to the end of struct verbs_context.
        if (sz < tailSize + VerbsStructs.IBV_CONTEXT.byteSize() || queryDeviceEx.equals(MemorySegment.NULL)) {
            return false;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(VerbsStructs.IBV_DEVICE_ATTR_EX);
            int errno = (int) Ibv.QUERY_DEVICE_EX.invokeExact(queryDeviceEx, context, MemorySegment.NULL, attr,
                    VerbsStructs.IBV_DEVICE_ATTR_EX.byteSize());
            return errno == 0
                    && ((long) VerbsStructs.ATTR_EX_ODP_GENERAL.get(attr, 0L) & VerbsStructs.IBV_ODP_SUPPORT) != 0;
        } catch (Throwable t) {
            throw Errors.unexpected(t);
        }
    }
}
