package io.livemig.migration.faults;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

/**
 * A TCP relay in front of a soft-fabric destination whose {@link #cut} stops one direction without a FIN or a
 * reset, as a dropped route or a firewall that drops packets does: the bytes already read are lost, the next ones
 * stay in the kernel's buffers. Closing the relay resets what is left.
 */
final class CutRelay implements AutoCloseable {

    /** Which way bytes stop moving. */
    enum Direction {
        /** Source to destination (the source's transmit path is cut). */
        TO_DESTINATION,
        /** Destination to source (the destination's transmit path is cut). */
        TO_SOURCE
    }

    private final List<Channel> channels = new CopyOnWriteArrayList<>();
    private final CountDownLatch closed = new CountDownLatch(1);
    private final InetSocketAddress address;
    private volatile Direction cut;

    CutRelay(InetSocketAddress target) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open().bind(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        channels.add(server);
        address = (InetSocketAddress) server.getLocalAddress();
        start(() -> {
            try {
                while (true) {
                    SocketChannel inbound = server.accept();
                    SocketChannel outbound = SocketChannel.open(target);
                    channels.add(inbound);
                    channels.add(outbound);
                    start(() -> pump(inbound, outbound, Direction.TO_DESTINATION));
                    start(() -> pump(outbound, inbound, Direction.TO_SOURCE));
                }
            } catch (IOException e) {
                // Closed with the cell.
            }
        });
    }

    /** Where the source dials. */
    InetSocketAddress address() {
        return address;
    }

    /** Stops moving bytes in {@code direction} from now on. */
    void cut(Direction direction) {
        cut = direction;
    }

    private void pump(SocketChannel from, SocketChannel to, Direction direction) {
        ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        try {
            while (from.read(buffer.clear()) >= 0) {
                if (cut == direction) {
                    closed.await();
                    return;
                }
                buffer.flip();
                while (buffer.hasRemaining()) {
                    to.write(buffer);
                }
            }
            to.shutdownOutput();
        } catch (IOException | InterruptedException e) {
            // Closed with the cell.
        }
    }

    private static void start(Runnable task) {
        Thread.ofPlatform().daemon().name("fault-relay").start(task);
    }

    @Override
    public void close() {
        closed.countDown();
        for (Channel channel : channels) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // The cell is over.
            }
        }
    }
}
