package io.livemig.transport.rdma.channel;

import static org.assertj.core.api.Assertions.assertThat;

import io.livemig.transport.rdma.observe.TransportRecorder;
import io.livemig.transport.rdma.verbs.WcOpcode;
import io.livemig.transport.rdma.verbs.WcStatus;
import io.netty.buffer.Unpooled;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What channels and their loops report to a {@link TransportRecorder}: every completion by opcode and status, the
 * send queue and posted receives as levels that return to zero when the channels are gone, and loop iterations that
 * poll and that block. On the soft provider's two fabrics (not on the verbs provider).
 */
@ParameterizedClass(name = "[{0}]", allowZeroInvocations = true)
@MethodSource("io.livemig.transport.rdma.TestProvider#selectedSoft")
class RdmaChannelRecorderTest extends RdmaChannelTestBase {

    private static final int MESSAGES = 20;
    private static final int RECEIVE_WINDOW = 8;

    private final CountingRecorder recorder = new CountingRecorder();

    @Override
    TransportRecorder recorder() {
        return recorder;
    }

    @Test
    void reportsCompletionsAndLevelsThatReturnToZero() throws Exception {
        RdmaServerChannel server = server(new Handlers.Echo(),
                bootstrap -> bootstrap.childOption(RdmaChannelOption.RECEIVE_BUFFER_COUNT, RECEIVE_WINDOW));
        Handlers.Collect collect = new Handlers.Collect();
        RdmaChannel client = connect(client(collect).option(RdmaChannelOption.RECEIVE_BUFFER_COUNT, RECEIVE_WINDOW),
                server);
        for (int i = 0; i < MESSAGES; i++) {
            var echoed = client.eventLoop().submit(() -> collect.expect(100)).get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertThat(client.writeAndFlush(Unpooled.wrappedBuffer(new byte[100])).await(WAIT_SECONDS,
                    TimeUnit.SECONDS)).isTrue();
            echoed.get(WAIT_SECONDS, TimeUnit.SECONDS);
        }

        // Both ends live on this group: each keeps its whole receive window posted, and every SEND has completed.
        awaitTrue(() -> recorder.receiveCredits.sum() == 2 * RECEIVE_WINDOW && recorder.sendOutstanding.sum() == 0,
                () -> "idle levels, now " + recorder);
        // Each message is a SEND one way and a SEND back, received once at each end; grants add to both.
        assertThat(recorder.completions(WcOpcode.SEND, WcStatus.SUCCESS)).isGreaterThanOrEqualTo(2 * MESSAGES);
        awaitTrue(() -> recorder.completions(WcOpcode.RECV, WcStatus.SUCCESS)
                == recorder.completions(WcOpcode.SEND, WcStatus.SUCCESS), () -> "a receive per SEND, now " + recorder);
        // Idle long enough to spend the spinning budget: the loops arm their queues and block.
        awaitTrue(() -> recorder.blocked.sum() > 0, "a loop iteration that blocks");
        assertThat(recorder.polled.sum()).isPositive();

        client.close().await(WAIT_SECONDS, TimeUnit.SECONDS);
        awaitTrue(() -> recorder.receiveCredits.sum() == 0 && recorder.sendOutstanding.sum() == 0,
                () -> "levels back at zero after close, now " + recorder);
        // The receives still posted when the queue pairs went to ERR completed as flushes.
        assertThat(recorder.completions(WcOpcode.RECV, WcStatus.WR_FLUSH_ERR)).isPositive();
    }

    /** Adds everything up, as a metrics implementation would. */
    static final class CountingRecorder implements TransportRecorder {
        final LongAdder polled = new LongAdder();
        final LongAdder blocked = new LongAdder();
        final LongAdder sendOutstanding = new LongAdder();
        final LongAdder receiveCredits = new LongAdder();
        final Map<String, LongAdder> completions = new ConcurrentHashMap<>();

        @Override
        public void eventLoopRun(boolean blockedRun) {
            (blockedRun ? blocked : polled).increment();
        }

        @Override
        public void workCompletion(WcOpcode opcode, WcStatus status) {
            completions.computeIfAbsent(opcode + "/" + status, key -> new LongAdder()).increment();
        }

        @Override
        public void sendQueueOutstanding(int delta) {
            sendOutstanding.add(delta);
        }

        @Override
        public void receiveCredits(int delta) {
            receiveCredits.add(delta);
        }

        long completions(WcOpcode opcode, WcStatus status) {
            LongAdder count = completions.get(opcode + "/" + status);
            return count == null ? 0 : count.sum();
        }

        @Override
        public String toString() {
            return "sendOutstanding=" + sendOutstanding + ", receiveCredits=" + receiveCredits + ", completions="
                    + completions;
        }
    }
}
