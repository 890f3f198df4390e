package io.livemig.transport.rdma.channel;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/** Echo through a server: SEND payloads of every size class, split across receive slots and put back together. */
@ParameterizedClass(name = "[{0}]", allowZeroInvocations = true)
@MethodSource("io.livemig.transport.rdma.TestProvider#selected")
class RdmaChannelEchoTest extends RdmaChannelTestBase {

    @Test
    void echoesMessagesFromOneByteTo512KiB() throws Exception {
        RdmaServerChannel server = server(new Handlers.Echo());
        Handlers.Collect collect = new Handlers.Collect();
        RdmaChannel client = connect(client(collect), server);
        Random random = new Random(42);
        for (int size : new int[] {1, 2, 63, 64, 65, 4096, 65_535, 65_536, 65_537, 200_000, 512 * 1024}) {
            byte[] message = new byte[size];
            random.nextBytes(message);
            var echoed = client.eventLoop().submit(() -> collect.expect(size)).get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertThat(client.writeAndFlush(Unpooled.wrappedBuffer(message)).await(WAIT_SECONDS, TimeUnit.SECONDS))
                    .isTrue();
            assertThat(echoed.get(WAIT_SECONDS, TimeUnit.SECONDS)).as("echo of %d bytes", size).isEqualTo(message);
        }
    }

    @Test
    void echoesManyMessagesWrittenBeforeOneFlush() throws Exception {
        RdmaServerChannel server = server(new Handlers.Echo());
        Handlers.Collect collect = new Handlers.Collect();
        RdmaChannel client = connect(client(collect), server);
        byte[] all = new byte[1000 * 1000];
        new Random(7).nextBytes(all);
        var echoed = client.eventLoop().submit(() -> collect.expect(all.length)).get(WAIT_SECONDS, TimeUnit.SECONDS);
        client.eventLoop().execute(() -> {
            for (int i = 0; i < 1000; i++) {
                client.write(Unpooled.wrappedBuffer(all, i * 1000, 1000));
            }
            client.write(Unpooled.EMPTY_BUFFER);
            client.flush();
        });
        assertThat(echoed.get(WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo(all);
    }
}
