package io.livemig.transport.rdma.verbs.soft;

import io.livemig.transport.rdma.verbs.SendOpcode;

/**
 * What a fabric moves between the two ends of a connection: connection-manager messages and RC packets. Payload
 * bytes travel beside the frame (a {@link Gather} on the way out, a {@link Payload} on the way in), so a fabric
 * can move them from source to destination memory with a single copy.
 */
sealed interface Frame permits Frame.CmMessage, Frame.RcRequest, Frame.RcResponse {

    /** The number of payload bytes that travel with this frame. */
    int payloadLength();

    /**
     * A connection-manager message (the IB CM MADs REQ, REP, RTU, REJ, DREQ, DREP, IB spec chapter 12).
     *
     * @param type the message
     * @param qpNumber the sender's queue pair number (REQ, REP)
     * @param initialPsn the first PSN the sender will use (REQ, REP)
     * @param status the reject reason (REJ)
     * @param privateData the private data (REQ, REP, REJ)
     */
    record CmMessage(CmMessageType type, int qpNumber, long initialPsn, int status, byte[] privateData)
            implements Frame {

        public CmMessage {
            privateData = privateData == null ? new byte[0] : privateData;
        }

        static CmMessage of(CmMessageType type) {
            return new CmMessage(type, 0, 0, 0, null);
        }

        @Override
        public int payloadLength() {
            return privateData.length;
        }
    }

    /**
     * A request packet (BTH + RETH/ImmDt). Every work request is one packet: the soft fabrics have no MTU.
     *
     * @param opcode the operation
     * @param psn the packet sequence number
     * @param remoteAddress the RETH virtual address (WRITE, READ)
     * @param rkey the RETH rkey (WRITE, READ)
     * @param dmaLength the RETH length (WRITE, READ) or the SEND length
     * @param immediateData the ImmDt (the {@code _WITH_IMM} opcodes)
     */
    record RcRequest(SendOpcode opcode, long psn, long remoteAddress, int rkey,
                     int dmaLength, int immediateData) implements Frame {

        @Override
        public int payloadLength() {
            return opcode == SendOpcode.RDMA_READ ? 0 : dmaLength;
        }
    }

    /**
     * A response packet: an ACK, a NAK (AETH syndrome) or an RDMA READ response carrying data.
     *
     * @param kind ACK, NAK or READ_RESPONSE
     * @param psn the PSN acknowledged, refused, or answered
     * @param nak the NAK code when {@code kind} is NAK, otherwise {@code null}
     * @param length the READ response's payload length
     */
    record RcResponse(ResponseKind kind, long psn, NakCode nak, int length) implements Frame {

        static RcResponse ack(long psn) {
            return new RcResponse(ResponseKind.ACK, psn, null, 0);
        }

        static RcResponse nak(long psn, NakCode code) {
            return new RcResponse(ResponseKind.NAK, psn, code, 0);
        }

        @Override
        public int payloadLength() {
            return kind == ResponseKind.READ_RESPONSE ? length : 0;
        }
    }

    /** The connection-manager messages. */
    enum CmMessageType { REQ, REP, RTU, REJ, DREQ, DREP }

    /** The kinds of response packet. */
    enum ResponseKind { ACK, NAK, READ_RESPONSE }

    /** NAK codes of the AETH syndrome (IB spec 9.7.5.2.8), plus RNR (9.7.5.2.8, syndrome 001). */
    enum NakCode {
        /** PSN sequence error: the requester must retransmit from the NAK's PSN. */
        PSN_SEQUENCE_ERROR,
        /** Receiver not ready: no receive WQE for a SEND. */
        RNR,
        /** Invalid request: e.g. the SEND is longer than the receive WQE. */
        INVALID_REQUEST,
        /** Remote access error: rkey, bounds or access rights. */
        REMOTE_ACCESS_ERROR,
        /** Remote operational error: the responder could not complete the request. */
        REMOTE_OPERATIONAL_ERROR
    }
}
