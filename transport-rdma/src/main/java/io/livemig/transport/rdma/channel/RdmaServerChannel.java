package io.livemig.transport.rdma.channel;

import io.livemig.transport.rdma.verbs.CmEvent;
import io.livemig.transport.rdma.verbs.CmEventChannel;
import io.livemig.transport.rdma.verbs.CmEventType;
import io.livemig.transport.rdma.verbs.CmId;
import io.livemig.transport.rdma.verbs.CompletionChannel;
import io.livemig.transport.rdma.verbs.CompletionQueue;
import io.livemig.transport.rdma.verbs.QueuePair;
import io.livemig.transport.rdma.verbs.VerbsException;
import io.netty.channel.AbstractServerChannel;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;

/**
 * A listening rdma_cm identifier for {@code ServerBootstrap}: each connect request goes to the
 * {@link RdmaChannelOption#ACCEPTOR}, which sees the peer's private data; an accepted request becomes a child
 * {@link RdmaChannel} (registered with the child group, which creates its queue pair, posts its receives and
 * accepts with the acceptor's private data), a rejected one is answered with the acceptor's private data.
 *
 * <p>The children share the server's device and rdma_cm event channel (the SPI has no {@code rdma_migrate_id}), so
 * the server forwards their connection events to their loops, and closing the server closes its children; the
 * device goes when the last of them is destroyed.
 */
public final class RdmaServerChannel extends AbstractServerChannel {

    private static final System.Logger LOG = System.getLogger(RdmaServerChannel.class.getName());

    private final RdmaServerChannelConfig config = new RdmaServerChannelConfig(this);
    private final Map<CmId, RdmaChannel> children = new ConcurrentHashMap<>();
    private volatile boolean open = true;
    private volatile CmId listenId;
    private RdmaEndpoint endpoint;
    private IoRegistration registration;
    private boolean handleRegistered;
    private boolean destroyed;

    /** Creates a server channel; {@code ServerBootstrap} calls this. */
    public RdmaServerChannel() {
    }

    @Override
    public RdmaServerChannelConfig config() {
        return config;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public boolean isActive() {
        return open && listenId != null;
    }

    @Override
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) super.localAddress();
    }

    @Override
    protected boolean isCompatible(EventLoop loop) {
        return loop instanceof IoEventLoop ioLoop && ioLoop.isCompatible(ServerUnsafe.class);
    }

    @Override
    protected SocketAddress localAddress0() {
        CmId id = listenId;
        return id == null ? null : id.localAddress();
    }

    @Override
    protected AbstractUnsafe newUnsafe() {
        return new ServerUnsafe();
    }

    @Override
    protected void doRegister(ChannelPromise promise) {
        if (endpoint != null || destroyed) {
            promise.setFailure(new IllegalStateException("an RdmaServerChannel cannot be registered twice"));
            return;
        }
        try {
            endpoint = RdmaEndpoint.open(config.getProvider());
        } catch (VerbsException e) {
            promise.setFailure(e);
            return;
        }
        ((IoEventLoop) eventLoop()).register((ServerUnsafe) unsafe()).addListener(future -> {
            if (future.isSuccess()) {
                registration = (IoRegistration) future.getNow();
                promise.setSuccess();
            } else {
                promise.setFailure(future.cause());
            }
        });
    }

    @Override
    protected void doBind(SocketAddress localAddress) throws Exception {
        CmId id = endpoint.events().createId();
        try {
            id.listen((InetSocketAddress) localAddress, config.getBacklog());
        } catch (VerbsException | RuntimeException e) {
            id.close();
            throw e;
        }
        listenId = id;
    }

    @Override
    protected void doBeginRead() {
        // Connect requests are answered as they come: the acceptor is the admission control.
    }

    @Override
    protected void doClose() {
        if (!open) {
            return;
        }
        open = false;
        CmId id = listenId;
        if (id != null) {
            id.close();
        }
        for (RdmaChannel child : children.values()) {
            child.close();
        }
        if (!handleRegistered) {
            destroy();
        }
    }

    @Override
    protected void doDeregister() {
        if (registration != null) {
            registration.cancel();
        }
    }

    private void destroy() {
        if (destroyed) {
            return;
        }
        destroyed = true;
        if (endpoint != null) {
            endpoint.release();
        }
    }

    void childDestroyed(CmId id) {
        children.remove(id);
    }

    private void onCmEvent(CmEvent event) {
        if (event.type() == CmEventType.CONNECT_REQUEST) {
            onConnectRequest(event);
            return;
        }
        RdmaChannel child = children.get(event.id());
        if (child == null) {
            return;
        }
        try {
            child.eventLoop().execute(() -> child.onCmEvent(event));
        } catch (RejectedExecutionException e) {
            LOG.log(System.Logger.Level.DEBUG, "dropping {0}: the child's loop is shut down", event);
        }
    }

    private void onConnectRequest(CmEvent event) {
        CmId id = event.id();
        RdmaAcceptDecision decision;
        try {
            decision = open ? config.getAcceptor().decide(id.remoteAddress(), event.privateData())
                    : RdmaAcceptDecision.reject(new byte[0]);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "the acceptor failed; rejecting " + id.remoteAddress(), e);
            decision = RdmaAcceptDecision.reject(new byte[0]);
        }
        if (!decision.isAccepted()) {
            try {
                id.reject(decision.privateData());
            } catch (VerbsException e) {
                LOG.log(System.Logger.Level.DEBUG, "reject failed", e);
            }
            id.close();
            return;
        }
        RdmaChannel sharing = decision.sharing();
        if (sharing != null && sharing.parent() != this) {
            LOG.log(System.Logger.Level.WARNING, "the acceptor named a channel of another server to share a protection"
                    + " domain with; rejecting " + id.remoteAddress());
            try {
                id.reject(new byte[0]);
            } catch (VerbsException e) {
                LOG.log(System.Logger.Level.DEBUG, "reject failed", e);
            }
            id.close();
            return;
        }
        RdmaChannel child = new RdmaChannel(this, endpoint.retain(), id, event.privateData(), decision.privateData(),
                sharing, decision.oneSided());
        children.put(id, child);
        pipeline().fireChannelRead(child);
        pipeline().fireChannelReadComplete();
    }

    /** The server's unsafe: the {@link RdmaIoHandle} of the listening identifier's event channel. */
    private final class ServerUnsafe extends AbstractUnsafe implements RdmaIoHandle {

        @Override
        public void connect(SocketAddress remoteAddress, SocketAddress localAddress, ChannelPromise promise) {
            safeSetFailure(promise, new UnsupportedOperationException("a server channel does not connect"));
        }

        @Override
        public CompletionChannel completionChannel() {
            return null;
        }

        @Override
        public List<CompletionQueue> completionQueues() {
            return List.of();
        }

        @Override
        public CmEventChannel cmEventChannel() {
            return endpoint.events();
        }

        @Override
        public QueuePair queuePair() {
            return null;
        }

        @Override
        public void handle(IoRegistration registration, IoEvent ioEvent) {
            try {
                CmEvent event;
                while ((event = endpoint.events().pollEvent()) != null) {
                    onCmEvent(event);
                }
            } catch (VerbsException e) {
                pipeline().fireExceptionCaught(e);
                close(voidPromise());
            }
        }

        @Override
        public void registered() {
            handleRegistered = true;
        }

        @Override
        public void unregistered() {
            handleRegistered = false;
            open = false;
            destroy();
        }

        @Override
        public void close() {
            close(voidPromise());
        }
    }

    @Override
    public String toString() {
        return "RdmaServerChannel[" + (open ? "open" : "closed") + ", " + localAddress0() + ", children="
                + children.size() + "]";
    }
}
