package io.livemig.transport.rdma.channel;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.livemig.transport.rdma.TestProvider;
import io.livemig.transport.rdma.verbs.CmEvent;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.livemig.transport.rdma.verbs.conformance.ProviderLimit;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/** The acceptor sees the connect request's private data and answers accept or reject, each with private data. */
@ParameterizedClass(name = "[{0}]", allowZeroInvocations = true)
@MethodSource("io.livemig.transport.rdma.TestProvider#selected")
class RdmaChannelPrivateDataTest extends RdmaChannelTestBase {

    private static final byte[] PASSWORD = "let me in".getBytes(US_ASCII);
    private static final byte[] WELCOME = "welcome".getBytes(US_ASCII);
    private static final byte[] GO_AWAY = "go away".getBytes(US_ASCII);

    private final CompletableFuture<byte[]> seenByChild = new CompletableFuture<>();

    /**
     * The private data as sent. IB and RoCE carry it in a CM message field of fixed size (56 bytes of a connect
     * request, 196 of a reply, 148 of a reject) and the peer receives the whole field, zero-padded; the soft
     * provider delivers exactly what was sent. The strings of this test end in a non-zero byte, so dropping the
     * trailing zeros gives them back on either.
     */
    private static byte[] unpadded(byte[] privateData) {
        int length = privateData.length;
        while (length > 0 && privateData[length - 1] == 0) {
            length--;
        }
        return Arrays.copyOf(privateData, length);
    }

    private RdmaServerChannel guardedServer() throws Exception {
        return server(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelActive(ChannelHandlerContext ctx) {
                seenByChild.complete(((RdmaChannel) ctx.channel()).peerPrivateData());
                ctx.fireChannelActive();
            }
        }, bootstrap -> bootstrap.option(RdmaChannelOption.ACCEPTOR, (remote, data) ->
                Arrays.equals(unpadded(data), PASSWORD) ? RdmaAcceptDecision.accept(WELCOME)
                        : RdmaAcceptDecision.reject(GO_AWAY)));
    }

    @Test
    void acceptsWithPrivateData() throws Exception {
        assumeNotLimited(ProviderLimit.NO_INCOMING_PRIVATE_DATA, "the acceptor never sees the password");
        RdmaServerChannel server = guardedServer();
        RdmaChannel client = connect(client(new ChannelInboundHandlerAdapter())
                .option(RdmaChannelOption.CONNECT_PRIVATE_DATA, PASSWORD), server);

        assertThat(client.isActive()).isTrue();
        assertThat(unpadded(client.peerPrivateData())).isEqualTo(WELCOME);
        assertThat(unpadded(seenByChild.get(WAIT_SECONDS, TimeUnit.SECONDS))).isEqualTo(PASSWORD);
    }

    @Test
    void rejectsWithPrivateData() throws Exception {
        assumeNotLimited(ProviderLimit.NO_INCOMING_PRIVATE_DATA, "the acceptor never sees the password");
        RdmaServerChannel server = guardedServer();

        assertThatThrownBy(() -> connect(client(new ChannelInboundHandlerAdapter())
                .option(RdmaChannelOption.CONNECT_PRIVATE_DATA, "guess".getBytes(US_ASCII)), server))
                .isInstanceOfSatisfying(RdmaConnectionRejectedException.class, rejected -> {
                    assertThat(unpadded(rejected.privateData())).isEqualTo(GO_AWAY);
                    assertThat(rejected.reason()).isEqualTo(CmEvent.REJECT_CONSUMER_DEFINED);
                    assertThat(rejected.nothingListening()).isFalse();
                    assertThat(rejected).hasMessage("connection rejected by " + hostPort(server.localAddress())
                            + ": consumer reject (reject reason 28)");
                });
        assertThat(seenByChild).isNotDone();

        // The server is still serving after a reject.
        RdmaChannel client = connect(client(new ChannelInboundHandlerAdapter())
                .option(RdmaChannelOption.CONNECT_PRIVATE_DATA, PASSWORD), server);
        assertThat(unpadded(client.peerPrivateData())).isEqualTo(WELCOME);
    }

    @Test
    void connectWhereNobodyListensFails() throws Exception {
        InetSocketAddress nowhere = addressNobodyListensOn();
        assertThatThrownBy(() -> sync(client(new ChannelInboundHandlerAdapter()).connect(nowhere)))
                .isInstanceOfSatisfying(ConnectException.class, failed -> {
                    // A device may also answer UNREACHABLE (see the conformance suite); the soft providers reject.
                    if (provider != TestProvider.VERBS || failed instanceof RdmaConnectionRejectedException) {
                        assertThat(failed).isInstanceOf(RdmaConnectionRejectedException.class);
                        RdmaConnectionRejectedException rejected = (RdmaConnectionRejectedException) failed;
                        // IB and RoCE: the CM's REJ, invalid service ID (8); iWARP: the TCP connect's -ECONNREFUSED.
                        assertThat(rejected.nothingListening()).as("reason %d", rejected.reason()).isTrue();
                        assertThat(rejected).hasMessage("connection rejected by " + hostPort(nowhere) + ": "
                                + RdmaConnectionRejectedException.describe(rejected.reason()));
                    }
                });
    }

    private static String hostPort(java.net.SocketAddress address) {
        InetSocketAddress inet = (InetSocketAddress) address;
        String host = inet.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + inet.getPort();
    }
}
