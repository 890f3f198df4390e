package io.livemig.transport.rdma.channel;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.livemig.transport.rdma.verbs.CmEvent;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.net.ConnectException;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The acceptor sees the connect request's private data and answers accept or reject, each with private data. */
abstract class RdmaChannelPrivateDataTest extends RdmaChannelTestBase {

    private static final byte[] PASSWORD = "let me in".getBytes(US_ASCII);
    private static final byte[] WELCOME = "welcome".getBytes(US_ASCII);
    private static final byte[] GO_AWAY = "go away".getBytes(US_ASCII);

    private final CompletableFuture<byte[]> seenByChild = new CompletableFuture<>();

    private RdmaServerChannel guardedServer() throws Exception {
        return server(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelActive(ChannelHandlerContext ctx) {
                seenByChild.complete(((RdmaChannel) ctx.channel()).peerPrivateData());
                ctx.fireChannelActive();
            }
        }, bootstrap -> bootstrap.option(RdmaChannelOption.ACCEPTOR, (remote, data) -> Arrays.equals(data, PASSWORD)
                ? RdmaAcceptDecision.accept(WELCOME) : RdmaAcceptDecision.reject(GO_AWAY)));
    }

    @Test
    void acceptsWithPrivateData() throws Exception {
        RdmaServerChannel server = guardedServer();
        RdmaChannel client = connect(client(new ChannelInboundHandlerAdapter())
                .option(RdmaChannelOption.CONNECT_PRIVATE_DATA, PASSWORD), server);

        assertThat(client.isActive()).isTrue();
        assertThat(client.peerPrivateData()).isEqualTo(WELCOME);
        assertThat(seenByChild.get(WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo(PASSWORD);
    }

    @Test
    void rejectsWithPrivateData() throws Exception {
        RdmaServerChannel server = guardedServer();

        assertThatThrownBy(() -> connect(client(new ChannelInboundHandlerAdapter())
                .option(RdmaChannelOption.CONNECT_PRIVATE_DATA, "guess".getBytes(US_ASCII)), server))
                .isInstanceOfSatisfying(RdmaConnectionRejectedException.class, rejected -> {
                    assertThat(rejected.privateData()).isEqualTo(GO_AWAY);
                    assertThat(rejected.reason()).isEqualTo(CmEvent.REJECT_CONSUMER_DEFINED);
                });
        assertThat(seenByChild).isNotDone();

        // The server is still serving after a reject.
        RdmaChannel client = connect(client(new ChannelInboundHandlerAdapter())
                .option(RdmaChannelOption.CONNECT_PRIVATE_DATA, PASSWORD), server);
        assertThat(client.peerPrivateData()).isEqualTo(WELCOME);
    }

    @Test
    void connectWhereNobodyListensFails() throws Exception {
        assertThatThrownBy(() -> sync(client(new ChannelInboundHandlerAdapter())
                .connect(addressNobodyListensOn())))
                .isInstanceOf(ConnectException.class);
    }
}
