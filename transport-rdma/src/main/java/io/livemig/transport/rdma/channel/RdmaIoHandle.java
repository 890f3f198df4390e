package io.livemig.transport.rdma.channel;

import io.livemig.transport.rdma.verbs.CmEventChannel;
import io.livemig.transport.rdma.verbs.CompletionChannel;
import io.livemig.transport.rdma.verbs.CompletionQueue;
import io.livemig.transport.rdma.verbs.QueuePair;
import io.netty.channel.IoHandle;
import java.util.List;

/**
 * An {@link IoHandle} an {@link RdmaIoHandler} can serve: it names the queues to poll and the descriptors to wait
 * on. The handler reads {@link #completionChannel()}, {@link #completionQueues()} and {@link #cmEventChannel()} once,
 * at registration; they must stay open until {@link #unregistered()}, which comes only after every submitted work
 * request has completed (successfully or flushed).
 */
public interface RdmaIoHandle extends IoHandle {

    /**
     * The completion channel the handle's queues notify.
     *
     * @return the channel, or {@code null} when the handle has no queues
     */
    CompletionChannel completionChannel();

    /**
     * The completion queues to poll.
     *
     * @return the queues, possibly empty
     */
    List<CompletionQueue> completionQueues();

    /**
     * The rdma_cm event channel to watch; on {@link RdmaIoEvent.Kind#CM_EVENTS} the handle must take events until
     * {@link CmEventChannel#pollEvent()} returns {@code null}, as the descriptor is level-triggered.
     *
     * @return the channel, or {@code null} when the handle takes no rdma_cm events itself
     */
    CmEventChannel cmEventChannel();

    /**
     * The queue pair {@link RdmaIoOps} are posted on.
     *
     * @return the queue pair, or {@code null} while there is none
     */
    QueuePair queuePair();
}
