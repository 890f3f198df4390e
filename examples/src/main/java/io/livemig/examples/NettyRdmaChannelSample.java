package io.livemig.examples;

import io.livemig.transport.rdma.channel.RdmaChannel;
import io.livemig.transport.rdma.channel.RdmaChannelOption;
import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import io.livemig.transport.rdma.channel.RdmaIoHandler;
import io.livemig.transport.rdma.channel.RdmaServerChannel;
import io.livemig.transport.rdma.channel.RdmaWrite;
import io.livemig.transport.rdma.verbs.AccessFlag;
import io.livemig.transport.rdma.verbs.MemoryRegion;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A Netty application on livemig's RDMA transport: a server of {@link RdmaServerChannel} and a client of
 * {@link RdmaChannel} on event loops of {@link RdmaIoHandler}, bootstrapped as any Netty transport is.
 *
 * <ul>
 *   <li>Two-sided: a {@code ByteBuf} the client writes is a SEND; the server's echo handler receives it as a
 *       {@code ByteBuf} over the receive slot it landed in and writes it back.</li>
 *   <li>One-sided: the server registers a window of its memory for remote writes and tells the client its address
 *       and rkey in its first SEND; the client then writes into it with {@link RdmaWrite}, and no handler runs on the
 *       server for it. The write's promise completes once the bytes are placed (a reliable connection acknowledges
 *       a WRITE after placing it).</li>
 * </ul>
 *
 * <p>Both ends run in this JVM on the loopback interface; {@code RdmaDeviceFactory.named("soft")} emulates the verbs
 * over TCP, {@code RdmaDeviceFactory.named("verbs")} runs the same code on an RDMA NIC.
 */
public final class NettyRdmaChannelSample implements AutoCloseable {

    /** Bytes in the server's window, the memory the client writes into. */
    public static final int WINDOW_SIZE = 4096;
    private static final long TIMEOUT_SECONDS = 20;

    private final EventLoopGroup group;
    private final Arena arena;
    private final MemorySegment window;
    private final RdmaChannel client;
    private final ClientHandler replies;
    private final RemoteWindow remote;
    private final MemoryRegion outgoing;
    private final AtomicBoolean closed = new AtomicBoolean();

    private NettyRdmaChannelSample(EventLoopGroup group, Arena arena, MemorySegment window, RdmaChannel client,
            ClientHandler replies, RemoteWindow remote, MemoryRegion outgoing) {
        this.group = group;
        this.arena = arena;
        this.window = window;
        this.client = client;
        this.replies = replies;
        this.remote = remote;
        this.outgoing = outgoing;
    }

    /**
     * Starts the server, connects the client to it and waits for the server's window.
     *
     * @param devices the RDMA provider of both ends
     * @return the running sample; close it to stop both ends
     * @throws Exception if binding, connecting or registering fails
     */
    public static NettyRdmaChannelSample start(RdmaDeviceFactory devices) throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, RdmaIoHandler.newFactory());
        // The window and the client's outgoing buffer; freed only after the loops, which deregister them, ended.
        Arena arena = Arena.ofShared();
        try {
            MemorySegment window = arena.allocate(WINDOW_SIZE, 4096);
            Channel server = new ServerBootstrap().group(group).channel(RdmaServerChannel.class)
                    .option(RdmaChannelOption.PROVIDER, devices)
                    .childHandler(new ServerHandler(window))
                    .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
            ClientHandler replies = new ClientHandler();
            RdmaChannel client = (RdmaChannel) new Bootstrap().group(group).channel(RdmaChannel.class)
                    .option(RdmaChannelOption.PROVIDER, devices)
                    .handler(replies)
                    .connect(server.localAddress()).sync().channel();
            RemoteWindow remote = replies.window.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            // The source of RDMA WRITEs must be registered too; the channel deregisters it when it closes.
            MemoryRegion outgoing = client.registerMemory(arena.allocate(WINDOW_SIZE, 4096), Set.of());
            return new NettyRdmaChannelSample(group, arena, window, client, replies, remote, outgoing);
        } catch (Exception | Error e) {
            shutDown(group, arena);
            throw e;
        }
    }

    /**
     * Two-sided: SENDs {@code message} to the server and waits for its echo.
     *
     * @param message at most one receive slot (64 KiB by default), so that the echo arrives as one read
     * @return the bytes the server sent back
     * @throws Exception if the echo fails or does not come
     */
    public byte[] echo(byte[] message) throws Exception {
        CompletableFuture<byte[]> reply = replies.expectReply();
        client.writeAndFlush(Unpooled.wrappedBuffer(message));
        return reply.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    /**
     * One-sided: RDMA WRITEs {@code bytes} to the start of the server's window and waits until they are placed.
     *
     * @param bytes at most {@link #WINDOW_SIZE}
     * @throws Exception if the write fails (its cause carries the work completion's status)
     */
    public void write(byte[] bytes) throws Exception {
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, outgoing.segment(), 0, bytes.length);
        client.writeAndFlush(RdmaWrite.of(outgoing, 0, bytes.length, remote.address(), remote.rkey()))
                .sync();
    }

    /**
     * The server's window as the server sees it.
     *
     * @return the memory (valid until {@link #close()})
     */
    public MemorySegment window() {
        return window;
    }

    /** Closes both ends and frees their memory (idempotent). */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            shutDown(group, arena);
        }
    }

    private static void shutDown(EventLoopGroup group, Arena arena) {
        // Closing the loops closes every channel on them, and each channel its queue pair and memory regions.
        // Memory still registered must not be freed (a NIC could write into it): if the loops hang, it leaks.
        if (group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            arena.close();
        }
    }

    /**
     * Runs the sample over the soft provider.
     *
     * @param args none
     * @throws Exception if it fails
     */
    public static void main(String[] args) throws Exception {
        try (NettyRdmaChannelSample sample = start(RdmaDeviceFactory.named("soft"))) {
            byte[] echoed = sample.echo("hello over SEND/RECV".getBytes(StandardCharsets.UTF_8));
            System.out.println("echoed: " + new String(echoed, StandardCharsets.UTF_8));
            byte[] written = "hello over RDMA WRITE".getBytes(StandardCharsets.UTF_8);
            sample.write(written);
            byte[] placed = sample.window().asSlice(0, written.length).toArray(ValueLayout.JAVA_BYTE);
            System.out.println("window: " + new String(placed, StandardCharsets.UTF_8));
        }
    }

    /** Where the client may write: the server's window as its first SEND describes it. */
    private record RemoteWindow(long address, int rkey) {
    }

    /**
     * The server side of each connection: registers the window for remote writes, advertises it, then echoes every
     * SEND. Shareable: the registration belongs to the connection's channel, not to the handler.
     */
    @ChannelHandler.Sharable
    private static final class ServerHandler extends ChannelInboundHandlerAdapter {
        private final MemorySegment window;

        ServerHandler(MemorySegment window) {
            this.window = window;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            MemoryRegion region = ((RdmaChannel) ctx.channel()).registerMemory(window,
                    Set.of(AccessFlag.LOCAL_WRITE, AccessFlag.REMOTE_WRITE));
            ctx.writeAndFlush(ctx.alloc().buffer(12).writeLong(region.address()).writeInt(region.rkey()));
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg); // the echo; the channel releases the buffer, and so reposts its receive slot, once sent
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }
    }

    /**
     * The client side: the server's first SEND describes its window, every later one is an echo. Both are complete
     * before any echo is asked for, since the client sends nothing until it knows the window.
     */
    private static final class ClientHandler extends ChannelInboundHandlerAdapter {
        final CompletableFuture<RemoteWindow> window = new CompletableFuture<>();
        private volatile CompletableFuture<byte[]> reply = new CompletableFuture<>();

        CompletableFuture<byte[]> expectReply() {
            reply = new CompletableFuture<>();
            return reply;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            try {
                if (!window.isDone()) {
                    window.complete(new RemoteWindow(buf.readLong(), buf.readInt()));
                } else {
                    reply.complete(ByteBufUtil.getBytes(buf));
                }
            } finally {
                buf.release();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            window.completeExceptionally(cause);
            reply.completeExceptionally(cause);
            ctx.close();
        }
    }
}
