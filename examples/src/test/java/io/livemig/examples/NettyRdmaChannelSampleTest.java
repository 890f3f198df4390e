package io.livemig.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.transport.rdma.channel.RdmaDeviceFactory;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Runs {@link NettyRdmaChannelSample} over the soft provider, as its {@code main} does. */
@Timeout(60)
class NettyRdmaChannelSampleTest {

    @Test
    void theServerEchoesASendAndTheClientWritesIntoTheServersWindow() throws Exception {
        try (NettyRdmaChannelSample sample = NettyRdmaChannelSample.start(RdmaDeviceFactory.named("soft"))) {
            byte[] message = "hello over SEND/RECV".getBytes(StandardCharsets.UTF_8);
            assertThat(sample.echo(message)).isEqualTo(message);

            byte[] written = new byte[NettyRdmaChannelSample.WINDOW_SIZE];
            new Random(11).nextBytes(written);
            sample.write(written);
            assertThat(sample.window().toArray(ValueLayout.JAVA_BYTE)).isEqualTo(written);

            // The channel still carries SENDs after the one-sided write.
            byte[] again = new byte[1000];
            new Random(12).nextBytes(again);
            assertThat(sample.echo(again)).isEqualTo(again);
        }
    }

    @Test
    void mainPrintsWhatWasEchoedAndWritten() throws Exception {
        String printed = SampleOutput.of(() -> NettyRdmaChannelSample.main(new String[0]));

        assertThat(printed).contains("echoed: hello over SEND/RECV", "window: hello over RDMA WRITE");
    }
}
