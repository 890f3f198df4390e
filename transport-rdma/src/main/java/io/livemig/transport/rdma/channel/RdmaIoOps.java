package io.livemig.transport.rdma.channel;

import io.livemig.transport.rdma.verbs.ReceiveWorkRequest;
import io.livemig.transport.rdma.verbs.SendWorkRequest;
import io.netty.channel.IoOps;
import java.util.Objects;

/**
 * One work request to post through {@link io.netty.channel.IoRegistration#submit(IoOps)} of an
 * {@link RdmaIoHandler} registration. Its {@code wrId} is the caller's local id (32 bits); the handler puts the
 * registration id above it, so the completion finds its way back, and counts the request as outstanding until its
 * completion (success or flush) has been delivered.
 */
public final class RdmaIoOps implements IoOps {

    private final SendWorkRequest send;
    private final ReceiveWorkRequest receive;

    private RdmaIoOps(SendWorkRequest send, ReceiveWorkRequest receive) {
        this.send = send;
        this.receive = receive;
    }

    /**
     * A send-queue request (SEND, RDMA WRITE, RDMA READ); it must be signaled, as the handler counts completions.
     *
     * @param request the request, with a 32-bit local id as {@code wrId}
     * @return the ops
     * @throws IllegalArgumentException when the request is unsignaled or its id does not fit 32 bits
     */
    public static RdmaIoOps send(SendWorkRequest request) {
        Objects.requireNonNull(request, "request");
        if (!request.signaled()) {
            throw new IllegalArgumentException("requests posted through an RdmaIoHandler must be signaled");
        }
        checkLocalId(request.wrId());
        return new RdmaIoOps(request, null);
    }

    /**
     * A receive-queue request.
     *
     * @param request the request, with a 32-bit local id as {@code wrId}
     * @return the ops
     * @throws IllegalArgumentException when its id does not fit 32 bits
     */
    public static RdmaIoOps receive(ReceiveWorkRequest request) {
        Objects.requireNonNull(request, "request");
        checkLocalId(request.wrId());
        return new RdmaIoOps(null, request);
    }

    private static void checkLocalId(long wrId) {
        if (wrId >>> 32 != 0) {
            throw new IllegalArgumentException("local wrId must fit in 32 bits: " + Long.toHexString(wrId));
        }
    }

    /**
     * The send request.
     *
     * @return the request, or {@code null} for a receive
     */
    public SendWorkRequest sendRequest() {
        return send;
    }

    /**
     * The receive request.
     *
     * @return the request, or {@code null} for a send
     */
    public ReceiveWorkRequest receiveRequest() {
        return receive;
    }

    @Override
    public String toString() {
        return "RdmaIoOps[" + (send != null ? send : receive) + "]";
    }
}
