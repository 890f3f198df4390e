package io.livemig.transport.rdma.channel;

import io.livemig.transport.rdma.verbs.WorkCompletion;
import io.netty.channel.IoEvent;

/**
 * What an {@link RdmaIoHandler} tells a registered {@link RdmaIoHandle}. The handler reuses one instance: it is
 * valid only during {@link io.netty.channel.IoHandle#handle}.
 */
public final class RdmaIoEvent implements IoEvent {

    /** The kinds of event. */
    public enum Kind {
        /** One work completion of a request the handle submitted; see {@link #completion()}. */
        COMPLETION,
        /** Every completion of the current polling round has been delivered: time to flush and read-complete. */
        COMPLETIONS_END,
        /** The handle's rdma_cm event channel is readable: take its events until it returns none. */
        CM_EVENTS
    }

    static final RdmaIoEvent COMPLETIONS_END = new RdmaIoEvent(Kind.COMPLETIONS_END);
    static final RdmaIoEvent CM_EVENTS = new RdmaIoEvent(Kind.CM_EVENTS);

    private final Kind kind;
    private WorkCompletion completion;

    private RdmaIoEvent(Kind kind) {
        this.kind = kind;
    }

    static RdmaIoEvent newCompletionEvent() {
        return new RdmaIoEvent(Kind.COMPLETION);
    }

    RdmaIoEvent completion(WorkCompletion wc) {
        this.completion = wc;
        return this;
    }

    /**
     * The kind of event.
     *
     * @return the kind
     */
    public Kind kind() {
        return kind;
    }

    /**
     * The completion of a {@link Kind#COMPLETION} event, with the registration id stripped: use
     * {@link #localId()} for the id the handle chose.
     *
     * @return the completion, or {@code null} for other kinds
     */
    public WorkCompletion completion() {
        return completion;
    }

    /**
     * The local id the handle gave the completed request.
     *
     * @return the low 32 bits of the completion's {@code wrId}
     */
    public int localId() {
        return WorkRequestId.local(completion.wrId());
    }

    @Override
    public String toString() {
        return "RdmaIoEvent[" + kind + (completion == null ? "" : ", " + completion) + "]";
    }
}
