package io.livemig.transport.rdma.channel;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * Makes the JDK create its process-wide NIO "pre-close" descriptor before the channel tests count descriptors.
 * A class of its own: run from the test base's static initializer, a lambda of the base would wait for that very
 * initialization.
 */
final class AsynchronousCloseWarmUp {

    private AsynchronousCloseWarmUp() {
    }

    /**
     * The JDK keeps one process-wide socket for closing a channel another thread is blocked in (NIO's "pre-close"
     * descriptor), created the first time that happens; the TCP fabric does that when a wire closes. Make it exist
     * before any test counts descriptors, so it is not reported as a leak.
     */
    static void run() {
        try (ServerSocketChannel server = ServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
             SocketChannel client = SocketChannel.open(server.getLocalAddress());
             SocketChannel accepted = server.accept()) {
            Thread reader = Thread.ofPlatform().start(() -> {
                try {
                    client.read(ByteBuffer.allocate(1));
                } catch (IOException expected) {
                    // closed under the reader: the point of the exercise
                }
            });
            while (reader.getState() != Thread.State.RUNNABLE) {
                Thread.onSpinWait();
            }
            Thread.sleep(50); // let the reader block inside read(); only a warm-up, nothing is asserted on it
            client.close();
            reader.join();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

}
