package io.livemig.transport.rdma.verbs;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * One rdma_cm event ({@code struct rdma_cm_event}), already acknowledged: the private data is a copy the caller
 * owns.
 *
 * @param type the event type
 * @param id the connection identifier the event is about (for CONNECT_REQUEST: the new one, owned by the caller
 *        who must accept, reject or close it)
 * @param listenId for CONNECT_REQUEST the listening identifier, otherwise {@code null}
 * @param privateData the peer's private data (empty when there is none). On InfiniBand and RoCE the IB CM carries it
 *        in fixed-size fields and the peer receives the whole field, zero-padded after the bytes sent: 56 bytes with
 *        a connect request, 196 with an accept, 148 with a reject. The soft provider delivers exactly the bytes
 *        sent. A protocol that needs the length carries it (QEMU's capabilities have a fixed size).
 * @param status the event status: 0, an IB CM reject reason for REJECTED, or a negative errno
 */
public record CmEvent(CmEventType type, CmId id, CmId listenId, byte[] privateData, int status) {

    /** Reject reason of an IB CM REJ sent because nobody listens on the service id (IB spec 12.6.7.2). */
    public static final int REJECT_INVALID_SERVICE_ID = 8;
    /** Reject reason of a REJ sent by the application through {@code rdma_reject} (consumer defined). */
    public static final int REJECT_CONSUMER_DEFINED = 28;
    /** Status of UNREACHABLE and CONNECT_ERROR events caused by a timeout: {@code -ETIMEDOUT}. */
    public static final int STATUS_TIMED_OUT = -110;

    /** Validates and copies the private data. */
    public CmEvent {
        Objects.requireNonNull(type, "type");
        privateData = privateData == null ? new byte[0] : privateData.clone();
    }

    /**
     * A copy of the private data.
     *
     * @return the bytes
     */
    @Override
    public byte[] privateData() {
        return privateData.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof CmEvent event && type == event.type && id == event.id && listenId == event.listenId
                && status == event.status && Arrays.equals(privateData, event.privateData);
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, id, status, Arrays.hashCode(privateData));
    }

    @Override
    public String toString() {
        return "CmEvent[" + type + ", status=" + status + ", privateData=" + HexFormat.of().formatHex(privateData)
                + "]";
    }
}
